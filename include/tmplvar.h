/*
 * tmplvar.h — the variables a text template may name ("{ticket}"), each
 * declared once: its name, its place in a rendering's value array and a
 * typical value. The config loader checks templates against the names and
 * measures them with the typical values; the composer fills the values.
 */
#ifndef GRIDLINE_TMPLVAR_H
#define GRIDLINE_TMPLVAR_H

#include "sms.h"

enum var {
	V_TICKET, V_CATEGORY, V_TEXT, V_ADDRESS, V_GRID, V_WORKER, V_WORKER_PHONE, V_PHONE,
	V_STATUS, V_NOTE, V_REASON, V_LIST, V_KEYWORDS, V_DUE, V_WHAT, V_COUNT, _V_MAX
};

/* Every variable's name, indexed by enum var, then NULL (for sms_template_check()). */
extern const char *const tmpl_var_names[_V_MAX + 1];

/* A typical value of every variable, indexed by enum var: what a fit check assumes. */
extern const char *const tmpl_var_typical[_V_MAX];

/*
 * Name every value for sms_render(): sv[i] = { tmpl_var_names[i],
 * values[i] }, a NULL value rendering as "". The strings are borrowed.
 */
void tmpl_vars_fill(struct sms_var sv[_V_MAX], const char *const values[_V_MAX]);

#endif
