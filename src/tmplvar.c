/*
 * tmplvar.c — the template variables' names and typical values (see
 * tmplvar.h). Add a variable here and in enum var, nowhere else.
 */
#include "tmplvar.h"

const char *const tmpl_var_names[_V_MAX + 1] = {
	[V_TICKET] = "ticket", [V_CATEGORY] = "category", [V_TEXT] = "text",
	[V_ADDRESS] = "address", [V_GRID] = "grid", [V_WORKER] = "worker",
	[V_WORKER_PHONE] = "worker_phone", [V_PHONE] = "phone", [V_STATUS] = "status",
	[V_NOTE] = "note", [V_REASON] = "reason", [V_LIST] = "list", [V_KEYWORDS] = "keywords",
	[V_DUE] = "due", [V_WHAT] = "what", [V_COUNT] = "count", [_V_MAX] = 0,
};

const char *const tmpl_var_typical[_V_MAX] = {
	[V_TICKET] = "1024", [V_CATEGORY] = "报修",
	[V_TEXT] = "厨房下水管堵了，水漫到客厅里，请尽快来修",
	[V_ADDRESS] = "解放南路281号院", [V_GRID] = "第一网格", [V_WORKER] = "李娜",
	[V_WORKER_PHONE] = "+8613900000001", [V_PHONE] = "+8613800000001",
	[V_STATUS] = "处理中", [V_NOTE] = "已疏通下水管", [V_REASON] = "只能处理自己的工单",
	[V_LIST] = "1024 处理中；1031 已派单", [V_KEYWORDS] = "报修/跑腿/办事",
	[V_DUE] = "11月27日10:30", [V_WHAT] = "接单", [V_COUNT] = "1000",
};

void tmpl_vars_fill(struct sms_var sv[_V_MAX], const char *const values[_V_MAX])
{
	for (int i = 0; i < _V_MAX; i++)
		sv[i] = (struct sms_var){ tmpl_var_names[i], values[i] ? values[i] : "" };
}
