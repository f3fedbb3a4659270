/*
 * test_text.c — tables for text.c: UTF-8 repair, normalisation, escaping,
 * phone numbers, keyword sets, and the parser (every request of the seed
 * article as a resident would text it, every keyword form, separator and
 * ticket reference form, ratings, the worker protocol).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "text.h"
#include "util.h"

#define FFFD "\xEF\xBF\xBD"

enum { CAT_REPAIR, CAT_ERRAND, CAT_SERVICE };

/* ---- keyword sets, built the way config.c builds them -------------------- */

struct kw {
	const char *word;
	enum intent intent;
	int category;
};

static const struct kw resident_kw[] = {
	{ "报修", INTENT_CATEGORY, CAT_REPAIR }, { "维修", INTENT_CATEGORY, CAT_REPAIR },
	{ "修", INTENT_CATEGORY, CAT_REPAIR }, { "REPAIR", INTENT_CATEGORY, CAT_REPAIR },
	{ "FIX", INTENT_CATEGORY, CAT_REPAIR }, { "BX", INTENT_CATEGORY, CAT_REPAIR },
	{ "保修", INTENT_CATEGORY, CAT_REPAIR }, /* homophone alias */
	{ "跑腿", INTENT_CATEGORY, CAT_ERRAND }, { "代办", INTENT_CATEGORY, CAT_ERRAND },
	{ "买菜", INTENT_CATEGORY, CAT_ERRAND }, { "ERRAND", INTENT_CATEGORY, CAT_ERRAND },
	{ "PT", INTENT_CATEGORY, CAT_ERRAND },
	{ "办事", INTENT_CATEGORY, CAT_SERVICE }, { "咨询", INTENT_CATEGORY, CAT_SERVICE },
	{ "SERVICE", INTENT_CATEGORY, CAT_SERVICE },
	{ "查询", INTENT_STATUS, -1 }, { "进度", INTENT_STATUS, -1 },
	{ "STATUS", INTENT_STATUS, -1 }, { "CX", INTENT_STATUS, -1 },
	{ "取消", INTENT_CANCEL, -1 }, { "CANCEL", INTENT_CANCEL, -1 }, { "QX", INTENT_CANCEL, -1 },
	{ "评价", INTENT_RATE, -1 }, { "RATE", INTENT_RATE, -1 }, { "PJ", INTENT_RATE, -1 },
	{ "帮助", INTENT_HELP, -1 }, { "?", INTENT_HELP, -1 }, { "HELP", INTENT_HELP, -1 },
	{ "退订", INTENT_STOP, -1 }, { "TD", INTENT_STOP, -1 }, { "STOP", INTENT_STOP, -1 },
};

static const struct kw worker_kw[] = {
	{ "接单", INTENT_ACCEPT, -1 }, { "ACCEPT", INTENT_ACCEPT, -1 }, { "OK", INTENT_ACCEPT, -1 },
	{ "JD", INTENT_ACCEPT, -1 }, { "1", INTENT_ACCEPT, -1 },
	{ "完成", INTENT_DONE, -1 }, { "办结", INTENT_DONE, -1 }, { "DONE", INTENT_DONE, -1 },
	{ "WC", INTENT_DONE, -1 },
	{ "退回", INTENT_DECLINE, -1 }, { "DECLINE", INTENT_DECLINE, -1 },
	{ "转", INTENT_TRANSFER, -1 }, { "TRANSFER", INTENT_TRANSFER, -1 },
	{ "列表", INTENT_LIST, -1 }, { "LIST", INTENT_LIST, -1 },
};

static struct keyword_set *build_set(const struct kw *kw, size_t n)
{
	struct keyword_set *ks = keyword_set_new();

	for (size_t i = 0; i < n; i++)
		assert_int_equal(keyword_set_add(ks, kw[i].word, kw[i].intent, kw[i].category), 0);
	return ks;
}

static int sets_setup(void **state)
{
	struct keyword_set **sets = xcalloc(2, sizeof(*sets));

	sets[0] = build_set(resident_kw, ELEMENTSOF(resident_kw));
	sets[1] = build_set(worker_kw, ELEMENTSOF(worker_kw));
	*state = sets;
	return 0;
}

static int sets_teardown(void **state)
{
	struct keyword_set **sets = *state;

	keyword_set_free(sets[0]);
	keyword_set_free(sets[1]);
	free(sets);
	return 0;
}

/* ---- text_parse ---------------------------------------------------------- */

enum who { R, W };  /* resident or worker keyword set */

struct parse_case {
	const char *text;    /* as texted; the test normalises it first */
	enum who who;
	enum intent intent;
	int category;
	int64_t ticket;
	int rating;
	const char *rest;
};

#define CAT(c) INTENT_CATEGORY, c
#define CMD(i) i, -1
#define NONE INTENT_NONE, -1

static const struct parse_case parse_cases[] = {
	/* the seed article's requests, as residents would text them */
	{ "报修 下水管网想疏通", R, CAT(CAT_REPAIR), 0, 0, "下水管网想疏通" },
	{ "报修 家里掉了墙砖想补补", R, CAT(CAT_REPAIR), 0, 0, "家里掉了墙砖想补补" },
	{ "跑腿 帮黄奶奶买菜", R, CAT(CAT_ERRAND), 0, 0, "帮黄奶奶买菜" },
	{ "办事 独生子女登记", R, CAT(CAT_SERVICE), 0, 0, "独生子女登记" },
	{ "咨询 换首诊医院", R, CAT(CAT_SERVICE), 0, 0, "换首诊医院" },
	{ "办事 咋办残疾证", R, CAT(CAT_SERVICE), 0, 0, "咋办残疾证" },
	{ "报修 院里葡萄树藤蔓爬到了电缆上", R, CAT(CAT_REPAIR), 0, 0, "院里葡萄树藤蔓爬到了电缆上" },
	{ "报修 寇庄西路6号院 想支起葡萄架", R, CAT(CAT_REPAIR), 0, 0, "寇庄西路6号院 想支起葡萄架" },
	{ "买菜 菜园小区81岁独居老人，菜市场改造买菜不方便", R, CAT(CAT_ERRAND), 0, 0,
	  "菜园小区81岁独居老人,菜市场改造买菜不方便" },
	{ "代办 办手续", R, CAT(CAT_ERRAND), 0, 0, "办手续" },
	{ "咨询 低保怎么申请", R, CAT(CAT_SERVICE), 0, 0, "低保怎么申请" },
	{ "报修 寇庄西路6号院3单元 下水管堵了", R, CAT(CAT_REPAIR), 0, 0,
	  "寇庄西路6号院3单元 下水管堵了" },
	/* no separator, longest keyword, homophone, one-character keyword */
	{ "报修下水管堵了", R, CAT(CAT_REPAIR), 0, 0, "下水管堵了" },
	{ "维修下水管堵了", R, CAT(CAT_REPAIR), 0, 0, "下水管堵了" },
	{ "修 水龙头漏水", R, CAT(CAT_REPAIR), 0, 0, "水龙头漏水" },
	{ "保修 楼道灯坏了", R, CAT(CAT_REPAIR), 0, 0, "楼道灯坏了" },
	{ "跑腿买药", R, CAT(CAT_ERRAND), 0, 0, "买药" },
	{ "办事社保卡补办", R, CAT(CAT_SERVICE), 0, 0, "社保卡补办" },
	/* full-width, ideographic space, case, Latin keywords */
	{ "ＲＥＰＡＩＲ ｋｉｔｃｈｅｎ ｔａｐ", R, CAT(CAT_REPAIR), 0, 0, "kitchen tap" },
	{ "报修　下水管堵了", R, CAT(CAT_REPAIR), 0, 0, "下水管堵了" },
	{ "　报修　　下水管堵了　", R, CAT(CAT_REPAIR), 0, 0, "下水管堵了" },
	{ "repair leaking pipe", R, CAT(CAT_REPAIR), 0, 0, "leaking pipe" },
	{ "Repair:leaking pipe", R, CAT(CAT_REPAIR), 0, 0, "leaking pipe" },
	{ "FIX door", R, CAT(CAT_REPAIR), 0, 0, "door" },
	{ "FIXED it myself", R, NONE, 0, 0, "FIXED it myself" },
	{ "errand medicine", R, CAT(CAT_ERRAND), 0, 0, "medicine" },
	{ "Service 残疾证", R, CAT(CAT_SERVICE), 0, 0, "残疾证" },
	/* pinyin initials */
	{ "BX下水管堵了", R, CAT(CAT_REPAIR), 0, 0, "下水管堵了" },
	{ "bx 楼道灯坏了", R, CAT(CAT_REPAIR), 0, 0, "楼道灯坏了" },
	{ "ＢＸ　墙砖掉了", R, CAT(CAT_REPAIR), 0, 0, "墙砖掉了" },
	{ "PT 买菜", R, CAT(CAT_ERRAND), 0, 0, "买菜" },
	{ "pt帮忙取药", R, CAT(CAT_ERRAND), 0, 0, "帮忙取药" },
	{ "BXYZ", R, NONE, 0, 0, "BXYZ" },
	/* every separator */
	{ "报修:漏水", R, CAT(CAT_REPAIR), 0, 0, "漏水" },
	{ "报修：漏水", R, CAT(CAT_REPAIR), 0, 0, "漏水" },
	{ "报修,漏水", R, CAT(CAT_REPAIR), 0, 0, "漏水" },
	{ "报修，漏水", R, CAT(CAT_REPAIR), 0, 0, "漏水" },
	{ "报修#漏水", R, CAT(CAT_REPAIR), 0, 0, "漏水" },
	{ "报修、漏水", R, CAT(CAT_REPAIR), 0, 0, "漏水" },
	{ "报修;漏水", R, CAT(CAT_REPAIR), 0, 0, "漏水" },
	{ "报修；漏水", R, CAT(CAT_REPAIR), 0, 0, "漏水" },
	{ "报修.漏水", R, CAT(CAT_REPAIR), 0, 0, "漏水" },
	{ "报修。漏水", R, CAT(CAT_REPAIR), 0, 0, "漏水" },
	{ "报修 ： 漏水", R, CAT(CAT_REPAIR), 0, 0, "漏水" },
	{ "报修", R, CAT(CAT_REPAIR), 0, 0, "" },
	{ "维修 1024", R, CAT(CAT_REPAIR), 0, 0, "1024" },  /* categories take no ticket */
	/* status: every ticket reference form */
	{ "查询", R, CMD(INTENT_STATUS), 0, 0, "" },
	{ "进度", R, CMD(INTENT_STATUS), 0, 0, "" },
	{ "CX", R, CMD(INTENT_STATUS), 0, 0, "" },
	{ "CX 1024", R, CMD(INTENT_STATUS), 1024, 0, "" },
	{ "cx#1024", R, CMD(INTENT_STATUS), 1024, 0, "" },
	{ "查询1024", R, CMD(INTENT_STATUS), 1024, 0, "" },
	{ "查询 #1024", R, CMD(INTENT_STATUS), 1024, 0, "" },
	{ "查询 R1024", R, CMD(INTENT_STATUS), 1024, 0, "" },
	{ "查询 r1024", R, CMD(INTENT_STATUS), 1024, 0, "" },
	{ "查询 No.1024", R, CMD(INTENT_STATUS), 1024, 0, "" },
	{ "查询 NO1024", R, CMD(INTENT_STATUS), 1024, 0, "" },
	{ "查询 no.1024", R, CMD(INTENT_STATUS), 1024, 0, "" },
	{ "查询 1024号", R, CMD(INTENT_STATUS), 1024, 0, "" },
	{ "查询 １０２４", R, CMD(INTENT_STATUS), 1024, 0, "" },
	{ "查询　１０２４", R, CMD(INTENT_STATUS), 1024, 0, "" },
	{ "查询＃１０２４", R, CMD(INTENT_STATUS), 1024, 0, "" },
	{ "ＳＴＡＴＵＳ　Ｒ１０２４", R, CMD(INTENT_STATUS), 1024, 0, "" },
	{ "查询 0", R, CMD(INTENT_STATUS), 0, 0, "0" },
	{ "查询 1234567890123", R, CMD(INTENT_STATUS), 0, 0, "1234567890123" },
	{ "查询 123456789012", R, CMD(INTENT_STATUS), 123456789012, 0, "" },
	{ "查询 我的报修", R, CMD(INTENT_STATUS), 0, 0, "我的报修" },
	/* cancel */
	{ "取消", R, CMD(INTENT_CANCEL), 0, 0, "" },
	{ "取消 1024 不需要了", R, CMD(INTENT_CANCEL), 1024, 0, "不需要了" },
	{ "QX 1024", R, CMD(INTENT_CANCEL), 1024, 0, "" },
	{ "cancel #1024", R, CMD(INTENT_CANCEL), 1024, 0, "" },
	/* rate */
	{ "评价 1024 1", R, CMD(INTENT_RATE), 1024, 1, "" },
	{ "评价 1", R, CMD(INTENT_RATE), 0, 1, "" },
	{ "评价3", R, CMD(INTENT_RATE), 0, 3, "" },
	{ "评价 1024 不满意 太慢", R, CMD(INTENT_RATE), 1024, 3, "太慢" },
	{ "评价 1024 基本满意", R, CMD(INTENT_RATE), 1024, 2, "" },
	{ "评价 1024 满意", R, CMD(INTENT_RATE), 1024, 1, "" },
	{ "评价 满意", R, CMD(INTENT_RATE), 0, 1, "" },
	{ "评价 基本满意", R, CMD(INTENT_RATE), 0, 2, "" },
	{ "评价不满意，还是漏", R, CMD(INTENT_RATE), 0, 3, "还是漏" },
	{ "评价1024 2", R, CMD(INTENT_RATE), 1024, 2, "" },
	{ "评价 #1024 满意", R, CMD(INTENT_RATE), 1024, 1, "" },
	{ "评价 R1024 3 又堵了", R, CMD(INTENT_RATE), 1024, 3, "又堵了" },
	{ "评价 1 满意", R, CMD(INTENT_RATE), 0, 1, "" },
	{ "评价 1满意", R, CMD(INTENT_RATE), 0, 1, "" },
	{ "评价 2 师傅很耐心", R, CMD(INTENT_RATE), 0, 2, "师傅很耐心" },
	{ "评价 1024 5", R, CMD(INTENT_RATE), 1024, 0, "5" },
	{ "评价 1024", R, CMD(INTENT_RATE), 1024, 0, "" },
	{ "评价 很好", R, CMD(INTENT_RATE), 0, 0, "很好" },
	{ "RATE 1024 3 still leaking", R, CMD(INTENT_RATE), 1024, 3, "still leaking" },
	{ "ＰＪ　２", R, CMD(INTENT_RATE), 0, 2, "" },
	/* help, stop */
	{ "帮助", R, CMD(INTENT_HELP), 0, 0, "" },
	{ "?", R, CMD(INTENT_HELP), 0, 0, "" },
	{ "？", R, CMD(INTENT_HELP), 0, 0, "" },
	{ "help", R, CMD(INTENT_HELP), 0, 0, "" },
	{ "HELPME", R, NONE, 0, 0, "HELPME" },
	{ "退订", R, CMD(INTENT_STOP), 0, 0, "" },
	{ "TD", R, CMD(INTENT_STOP), 0, 0, "" },
	{ "stop", R, CMD(INTENT_STOP), 0, 0, "" },
	/* no keyword, empty */
	{ "下水管堵了", R, NONE, 0, 0, "下水管堵了" },
	{ "你好，请问社区办公室在哪", R, NONE, 0, 0, "你好,请问社区办公室在哪" },
	{ "主任，我们院的葡萄树藤蔓爬到了电缆上", R, NONE, 0, 0, "主任,我们院的葡萄树藤蔓爬到了电缆上" },
	{ "1", R, NONE, 0, 0, "1" },
	{ "", R, NONE, 0, 0, "" },
	{ " 　\t ", R, NONE, 0, 0, "" },
	/* worker protocol */
	{ "接单", W, CMD(INTENT_ACCEPT), 0, 0, "" },
	{ "1", W, CMD(INTENT_ACCEPT), 0, 0, "" },
	{ "１", W, CMD(INTENT_ACCEPT), 0, 0, "" },
	{ "1024", W, NONE, 0, 0, "1024" },
	{ "1 1024", W, CMD(INTENT_ACCEPT), 1024, 0, "" },
	{ "JD1024", W, CMD(INTENT_ACCEPT), 1024, 0, "" },
	{ "jd 1024", W, CMD(INTENT_ACCEPT), 1024, 0, "" },
	{ "OK", W, CMD(INTENT_ACCEPT), 0, 0, "" },
	{ "ok #1024", W, CMD(INTENT_ACCEPT), 1024, 0, "" },
	{ "OKAY", W, NONE, 0, 0, "OKAY" },
	{ "接单 R1024", W, CMD(INTENT_ACCEPT), 1024, 0, "" },
	{ "完成 1024 已疏通", W, CMD(INTENT_DONE), 1024, 0, "已疏通" },
	{ "完成1024已疏通", W, CMD(INTENT_DONE), 1024, 0, "已疏通" },
	{ "完成 1024号 墙砖已补好", W, CMD(INTENT_DONE), 1024, 0, "墙砖已补好" },
	{ "WC 1024 墙砖已补好", W, CMD(INTENT_DONE), 1024, 0, "墙砖已补好" },
	{ "办结 No.1024 残疾证已办", W, CMD(INTENT_DONE), 1024, 0, "残疾证已办" },
	{ "完成1024门锁已换", W, CMD(INTENT_DONE), 1024, 0, "门锁已换" },
	{ "完成 已疏通", W, CMD(INTENT_DONE), 0, 0, "已疏通" },
	{ "完成 3楼水管已修好", W, CMD(INTENT_DONE), 0, 0, "3楼水管已修好" },
	{ "完成 6号院葡萄架已支好", W, CMD(INTENT_DONE), 0, 0, "6号院葡萄架已支好" },
	{ "DONE 1024, fixed", W, CMD(INTENT_DONE), 1024, 0, "fixed" },
	{ "退回 1024 不归我管", W, CMD(INTENT_DECLINE), 1024, 0, "不归我管" },
	{ "decline", W, CMD(INTENT_DECLINE), 0, 0, "" },
	{ "转 1024 w07", W, CMD(INTENT_TRANSFER), 1024, 0, "w07" },
	{ "转1024 w07", W, CMD(INTENT_TRANSFER), 1024, 0, "w07" },
	{ "TRANSFER #1024 v01", W, CMD(INTENT_TRANSFER), 1024, 0, "v01" },
	{ "转 w07", W, CMD(INTENT_TRANSFER), 0, 0, "w07" },
	{ "列表", W, CMD(INTENT_LIST), 0, 0, "" },
	{ "list", W, CMD(INTENT_LIST), 0, 0, "" },
	{ "报修 下水管堵了", W, NONE, 0, 0, "报修 下水管堵了" },
};

static const char *intent_label(enum intent i)
{
	if (i == INTENT_NONE)
		return "none";
	if (i == INTENT_CATEGORY)
		return "category";
	return intent_name(i);
}

static void describe(char *buf, size_t size, const char *text, enum intent intent, int category,
		     int64_t ticket, int rating, const char *rest)
{
	snprintf(buf, size, "[%s] -> %s cat=%d ticket=%lld rating=%d rest=[%s]", text,
		 intent_label(intent), category, (long long)ticket, rating, rest);
}

static void test_parse_table(void **state)
{
	struct keyword_set **sets = *state;

	assert_true(ELEMENTSOF(parse_cases) >= 60);
	for (size_t i = 0; i < ELEMENTSOF(parse_cases); i++) {
		const struct parse_case *c = &parse_cases[i];
		char *norm = text_normalize(c->text);
		char want[512], got[512];
		struct parsed p;

		text_parse(sets[c->who], norm, &p);
		describe(want, sizeof(want), c->text, c->intent, c->category, c->ticket, c->rating,
			 c->rest);
		describe(got, sizeof(got), c->text, p.intent, p.category, p.ticket, p.rating, p.rest);
		assert_string_equal(got, want);
		/* the pointers point into norm */
		assert_true(p.rest >= norm && p.rest <= norm + strlen(norm));
		assert_true(p.keyword_end >= norm && p.keyword_end <= p.rest);
		if (p.intent == INTENT_NONE)
			assert_ptr_equal(p.keyword_end, norm);
		free(norm);
	}
}

static void test_parse_keyword_end(void **state)
{
	struct keyword_set **sets = *state;
	struct parsed p;

	{
		const char *t = "报修 漏水";

		text_parse(sets[R], t, &p);
		assert_ptr_equal(p.keyword_end, t + strlen("报修"));
		assert_ptr_equal(p.rest, t + strlen("报修 "));
	}
	{
		const char *t = "BX下水管";

		text_parse(sets[R], t, &p);
		assert_ptr_equal(p.keyword_end, t + 2);
		assert_ptr_equal(p.rest, t + 2);
	}
	{
		const char *t = "转 1024 w07";

		text_parse(sets[W], t, &p);
		assert_ptr_equal(p.keyword_end, t + strlen("转"));
	}
}

static void test_parse_null_set(void **state)
{
	struct parsed p;

	(void)state;
	text_parse(NULL, "报修 漏水", &p);
	assert_int_equal(p.intent, INTENT_NONE);
	assert_string_equal(p.rest, "报修 漏水");
}

/* ---- keyword sets -------------------------------------------------------- */

static void test_keyword_longest(void **state)
{
	static const struct {
		const char *text;
		enum intent intent;
		int category;
	} cases[] = {
		{ "ABC 1", CMD(INTENT_CANCEL) },
		{ "AB 1", CMD(INTENT_STATUS) },
		{ "abc", CMD(INTENT_CANCEL) },
		{ "ABCD", NONE },           /* ABC runs on into a letter, and so does AB */
		{ "修改地址", CMD(INTENT_HELP) },
		{ "修水管", CAT(0) },
		{ "12", CMD(INTENT_DONE) },
		{ "123", NONE },            /* a digit keyword never runs on into a digit */
		{ "1 2", CMD(INTENT_ACCEPT) },
	};
	/* shorter ones added after and before longer ones: order must not matter */
	static const struct kw kws[] = {
		{ "AB", INTENT_STATUS, -1 }, { "ABC", INTENT_CANCEL, -1 },
		{ "修改", INTENT_HELP, -1 }, { "修", INTENT_CATEGORY, 0 },
		{ "12", INTENT_DONE, -1 }, { "1", INTENT_ACCEPT, -1 },
	};
	struct keyword_set *ks = build_set(kws, ELEMENTSOF(kws));

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		struct parsed p;
		char want[256], got[256];

		text_parse(ks, cases[i].text, &p);
		describe(want, sizeof(want), cases[i].text, cases[i].intent, cases[i].category, 0, 0, "");
		describe(got, sizeof(got), cases[i].text, p.intent, p.category, 0, 0, "");
		assert_string_equal(got, want);
	}
	keyword_set_free(ks);
}

static void test_keyword_add(void **state)
{
	static const struct {
		const char *word;
		enum intent intent;
		int category;
		int ret;
	} cases[] = {
		{ "报修", INTENT_CATEGORY, 0, 0 },
		{ "报修", INTENT_CATEGORY, 1, -EEXIST },
		{ " 报修 ", INTENT_STATUS, -1, -EEXIST },  /* normalised first */
		{ "REPAIR", INTENT_CATEGORY, 0, 0 },
		{ "repair", INTENT_CATEGORY, 0, -EEXIST },
		{ "ＲＥＰＡＩＲ", INTENT_CATEGORY, 0, -EEXIST },
		{ "?", INTENT_HELP, -1, 0 },
		{ "？", INTENT_HELP, -1, -EEXIST },
		{ "1", INTENT_ACCEPT, -1, 0 },
		{ "", INTENT_HELP, -1, -EINVAL },
		{ " 　", INTENT_HELP, -1, -EINVAL },
		{ "X", INTENT_NONE, -1, -EINVAL },
		{ "X", _INTENT_MAX, -1, -EINVAL },
		{ "X", INTENT_CATEGORY, -1, -EINVAL },
		{ "X", INTENT_HELP, 2, -EINVAL },
		{ "X", INTENT_HELP, -1, 0 },
	};
	struct keyword_set *ks = keyword_set_new();
	struct parsed p;

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		int r = keyword_set_add(ks, cases[i].word, cases[i].intent, cases[i].category);

		if (r != cases[i].ret)
			fail_msg("case %zu [%s]: got %d, want %d", i, cases[i].word, r, cases[i].ret);
	}
	/* the first one stays */
	text_parse(ks, "报修", &p);
	assert_int_equal(p.intent, INTENT_CATEGORY);
	assert_int_equal(p.category, 0);
	keyword_set_free(ks);
	keyword_set_free(NULL);
}

/* ---- ticket references --------------------------------------------------- */

static void test_ticket_ref(void **state)
{
	static const struct {
		const char *s;
		bool ok;
		int64_t ticket;
		const char *end;     /* what follows the reference */
	} cases[] = {
		{ "1024", true, 1024, "" },
		{ "#1024", true, 1024, "" },
		{ " , 1024 x", true, 1024, " x" },
		{ "R1024", true, 1024, "" },
		{ "r1024 w07", true, 1024, " w07" },
		{ "No.1024", true, 1024, "" },
		{ "no.1024", true, 1024, "" },
		{ "NO1024", true, 1024, "" },
		{ "1024号", true, 1024, "" },
		{ "1024号已修", true, 1024, "已修" },
		{ "1024已疏通", true, 1024, "已疏通" },
		{ "1024,好", true, 1024, ",好" },
		{ "1024!", true, 1024, "!" },
		{ "123456789012", true, 123456789012, "" },
		{ "1234567890123", false, 0, NULL },
		{ "0", false, 0, NULL },
		{ "000", false, 0, NULL },
		{ "6号院", false, 0, NULL },
		{ "3号楼", false, 0, NULL },
		{ "3楼", false, 0, NULL },
		{ "5块钱", false, 0, NULL },
		{ "1024x", false, 0, NULL },
		{ "1024-2", false, 0, NULL },
		{ "abc", false, 0, NULL },
		{ "R", false, 0, NULL },
		{ "No.", false, 0, NULL },
		{ "Router", false, 0, NULL },
		{ "", false, 0, NULL },
	};

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		int64_t t = -1;
		const char *end = NULL;
		bool ok = text_ticket_ref(cases[i].s, &t, &end);

		if (ok != cases[i].ok)
			fail_msg("case %zu [%s]: got %d, want %d", i, cases[i].s, ok, cases[i].ok);
		if (!ok) {
			assert_int_equal(t, -1);     /* untouched */
			continue;
		}
		assert_int_equal(t, cases[i].ticket);
		assert_string_equal(end, cases[i].end);
	}
}

/* ---- intents ------------------------------------------------------------- */

static void test_intent_names(void **state)
{
	static const char *const names[] = {
		"status", "cancel", "rate", "help", "stop",
		"accept", "done", "decline", "transfer", "list",
	};

	(void)state;
	assert_null(intent_name(INTENT_NONE));
	assert_null(intent_name(INTENT_CATEGORY));
	assert_null(intent_name(_INTENT_MAX));
	for (int i = INTENT_STATUS; i < _INTENT_MAX; i++) {
		assert_string_equal(intent_name((enum intent)i), names[i - INTENT_STATUS]);
		assert_int_equal(intent_from_name(names[i - INTENT_STATUS]), i);
	}
	assert_int_equal(intent_from_name("repair"), INTENT_NONE);
	assert_int_equal(intent_from_name("STATUS"), INTENT_NONE);
	assert_int_equal(intent_from_name(""), INTENT_NONE);
	assert_int_equal(intent_from_name(NULL), INTENT_NONE);
}

/* ---- UTF-8 repair -------------------------------------------------------- */

static void test_utf8_fix(void **state)
{
	static const struct {
		const char *in;
		size_t len;
		const char *out;
		size_t bad;
	} cases[] = {
		{ "", 0, "", 0 },
		{ "abc", 3, "abc", 0 },
		{ "报修 下水管", 16, "报修 下水管", 0 },
		{ "\xF0\x9F\x98\x80", 4, "\xF0\x9F\x98\x80", 0 },         /* U+1F600 */
		{ "\xF4\x8F\xBF\xBF", 4, "\xF4\x8F\xBF\xBF", 0 },         /* U+10FFFF */
		{ "\xC0\x80", 2, FFFD FFFD, 2 },                          /* overlong NUL */
		{ "\xC1\xBF", 2, FFFD FFFD, 2 },                          /* overlong DEL */
		{ "\xE0\x80\xAF", 3, FFFD FFFD FFFD, 3 },                 /* overlong '/' */
		{ "\xF0\x82\x82\xAC", 4, FFFD FFFD FFFD FFFD, 4 },        /* overlong € */
		{ "\xED\xA0\x80", 3, FFFD FFFD FFFD, 3 },                 /* surrogate D800 */
		{ "\xED\xBF\xBF", 3, FFFD FFFD FFFD, 3 },                 /* surrogate DFFF */
		{ "\xF4\x90\x80\x80", 4, FFFD FFFD FFFD FFFD, 4 },        /* above U+10FFFF */
		{ "a\xE6\x8A", 3, "a" FFFD, 1 },                          /* truncated 报 at end */
		{ "\xE6\x8Ax", 3, FFFD "x", 1 },                          /* truncated, then ASCII */
		{ "\xF0\x9F\x98", 3, FFFD, 1 },                           /* truncated emoji */
		{ "\x80" "abc", 4, FFFD "abc", 1 },                       /* stray continuation */
		{ "\xBF\xBF", 2, FFFD FFFD, 2 },
		{ "a\0b", 3, "a" FFFD "b", 1 },                           /* NUL byte */
		{ "\xFF", 1, FFFD, 1 },
		{ "\xFE\xFF", 2, FFFD FFFD, 2 },
		{ "\xF5\x80\x80\x80", 4, FFFD FFFD FFFD FFFD, 4 },
		{ "ok\xE5\xAE", 4, "ok" FFFD, 1 },
		{ "abc", 2, "ab", 0 },                                    /* len, not strlen */
	};

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		size_t bad = 99;
		char *out = text_utf8_fix(cases[i].in, cases[i].len, &bad);

		assert_string_equal(out, cases[i].out);
		if (bad != cases[i].bad)
			fail_msg("case %zu: %zu bad, want %zu", i, bad, cases[i].bad);
		free(out);
	}
	free(text_utf8_fix("\xFF", 1, NULL));
}

static void test_utf8_len(void **state)
{
	(void)state;
	assert_int_equal(text_utf8_len(""), 0);
	assert_int_equal(text_utf8_len("abc"), 3);
	assert_int_equal(text_utf8_len("报修"), 2);
	assert_int_equal(text_utf8_len("a€\xF0\x9F\x98\x80"), 3);
}

/* ---- normalisation ------------------------------------------------------- */

static void test_normalize(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "", "" },
		{ "报修", "报修" },
		{ "  报修   下水管  ", "报修 下水管" },
		{ "ＲＥＰＡＩＲ", "REPAIR" },
		{ "Repair", "Repair" },                  /* case kept */
		{ "１０２４", "1024" },
		{ "报修　下水管", "报修 下水管" },        /* U+3000 */
		{ "　　", "" },
		{ "a\t\r\nb", "a b" },
		{ "a\xC2\xA0" "b", "a b" },              /* no-break space */
		{ "a\xE2\x80\x83" "b", "a b" },          /* em space */
		{ "！～", "!~" },                        /* U+FF01, U+FF5E */
		{ "｟", "｟" },                          /* U+FF5F is not folded */
		{ "＃１０２４，谢谢", "#1024,谢谢" },
		{ "报修：漏水；急", "报修:漏水;急" },
		{ "，。、", ",。、" },                   /* U+3001, U+3002 are not full-width forms */
	};

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		char *out = text_normalize(cases[i].in);

		assert_string_equal(out, cases[i].out);
		free(out);
	}
}

/* ---- escaping ------------------------------------------------------------ */

/* Offsets in the normalised text map back to the original text. */
static const struct {
	const char *orig;
	const char *norm_at;   /* a suffix of text_normalize(orig) */
	const char *orig_at;   /* the suffix of orig it maps to */
} offset_cases[] = {
	{ "报修 下水管堵了", "下水管堵了", "下水管堵了" },
	{ "报修　　下水管堵了，麻烦", "下水管堵了,麻烦", "下水管堵了，麻烦" },
	{ "ＲＥＰＡＩＲ　漏水", "漏水", "漏水" },
	{ "  完成 １０２４ 已疏通 ", "已疏通", "已疏通 " },
	{ "报修下水管", "下水管", "下水管" },
	{ "报修 a\x1b[31mb", "a\x1b[31mb", "a\x1b[31mb" },
	{ "报修", "", "" },
	{ "", "", "" },
};

static void test_original_offset(void **state)
{
	for (size_t i = 0; i < sizeof(offset_cases) / sizeof(offset_cases[0]); i++) {
		char *norm = text_normalize(offset_cases[i].orig);
		size_t nlen = strlen(norm), slen = strlen(offset_cases[i].norm_at);
		size_t off;

		assert_true(nlen >= slen);
		assert_string_equal(norm + nlen - slen, offset_cases[i].norm_at);
		off = text_original_offset(offset_cases[i].orig, nlen - slen);
		assert_string_equal(offset_cases[i].orig + off, offset_cases[i].orig_at);
		free(norm);
	}
}

static void test_escape(void **state)
{
	static const struct {
		const char *in;
		size_t size;
		const char *out;
	} cases[] = {
		{ "plain 报修", 64, "plain 报修" },
		{ "\x1b[31mred\x1b[0m", 64, "\\x1b[31mred\\x1b[0m" },
		{ "a\rb", 64, "a\\x0db" },
		{ "a\nb", 64, "a\\nb" },
		{ "a\tb", 64, "a\\x09b" },
		{ "\x7f", 64, "\\x7f" },
		{ "\x01", 64, "\\x01" },
		{ "\xC2\x85", 64, "\\u{0085}" },                     /* C1 NEL */
		{ "\xC2\x9B" "31m", 64, "\\u{009B}31m" },            /* C1 CSI */
		{ "abc\xE2\x80\xAE" "fed", 64, "abc\\u{202E}fed" },  /* RIGHT-TO-LEFT OVERRIDE */
		{ "\xE2\x80\xAA", 64, "\\u{202A}" },
		{ "\xE2\x81\xA6" "x\xE2\x81\xA9", 64, "\\u{2066}x\\u{2069}" },
		{ "\xE2\x80\x8F", 64, "\xE2\x80\x8F" },              /* RLM is not listed */
		{ "\xFF", 64, "\\xff" },                             /* not UTF-8 at all */
		{ "abc", 4, "abc" },                                 /* exactly fits */
		{ "abcdefghij", 8, "abcd…" },
		{ "报修报修报修", 10, "报修…" },                     /* never half a character */
		{ "\x1b\x1b\x1b", 10, "\\x1b…" },                    /* never half an escape */
		{ "abcdef", 1, "" },
	};

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		char out[64];

		memset(out, 'X', sizeof(out));
		assert_ptr_equal(text_escape(cases[i].in, out, cases[i].size), out);
		assert_string_equal(out, cases[i].out);
		assert_true(strlen(out) < cases[i].size);
	}
}

/* ---- phone numbers ------------------------------------------------------- */

static void test_phone(void **state)
{
	static const struct {
		const char *in, *cc;
		int ret;
		const char *out;
	} cases[] = {
		{ "13800000001", "86", 0, "+8613800000001" },
		{ "8613800000001", "86", 0, "+8613800000001" },
		{ "+8613800000001", "86", 0, "+8613800000001" },
		{ "008613800000001", "86", 0, "+8613800000001" },
		{ "+86 138-0000-0001", "86", 0, "+8613800000001" },
		{ "(+86) 138 0000 0001", "86", 0, "+8613800000001" },
		{ "138.0000.0001", "86", 0, "+8613800000001" },
		{ "0351-1234567", "86", 0, "+863511234567" },       /* trunk 0 dropped */
		{ "+447700900123", "86", 0, "+447700900123" },      /* other country kept */
		{ "0044 7700 900123", "86", 0, "+447700900123" },
		{ "07700900123", "44", 0, "+447700900123" },
		{ "+1 (202) 555-0123", "86", 0, "+12025550123" },
		{ "2025550123", "1", 0, "+12025550123" },
		{ "12025550123", "1", 0, "+12025550123" },
		{ "", "86", -EINVAL, NULL },
		{ "abc", "86", -EINVAL, NULL },
		{ "+", "86", -EINVAL, NULL },
		{ "138O0000001", "86", -EINVAL, NULL },             /* letter O */
		{ "1380000000１", "86", -EINVAL, NULL },             /* full-width digit */
		{ "+86+13800000001", "86", -EINVAL, NULL },
		{ "123", "86", -EINVAL, NULL },                     /* too short */
		{ "+12345", "86", -EINVAL, NULL },
		{ "+1234567890123456", "86", -EINVAL, NULL },       /* 16 digits */
		{ "12345678901234567890123456", "86", -EINVAL, NULL },
		{ "13800000001", "abc", -EINVAL, NULL },
		{ "13800000001", "", -EINVAL, NULL },
		{ "13800000001", "8600", -EINVAL, NULL },
	};

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		char out[32] = "untouched";
		int r = phone_normalize(cases[i].in, cases[i].cc, out, sizeof(out));

		if (r != cases[i].ret)
			fail_msg("case %zu [%s]: got %d, want %d", i, cases[i].in, r, cases[i].ret);
		if (r == 0)
			assert_string_equal(out, cases[i].out);
	}
	{
		char small[8];

		assert_int_equal(phone_normalize("13800000001", "86", small, sizeof(small)), -ENOBUFS);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_parse_table, sets_setup, sets_teardown),
		cmocka_unit_test_setup_teardown(test_parse_keyword_end, sets_setup, sets_teardown),
		cmocka_unit_test(test_parse_null_set),
		cmocka_unit_test(test_keyword_longest),
		cmocka_unit_test(test_keyword_add),
		cmocka_unit_test(test_ticket_ref),
		cmocka_unit_test(test_intent_names),
		cmocka_unit_test(test_utf8_fix),
		cmocka_unit_test(test_utf8_len),
		cmocka_unit_test(test_normalize),
		cmocka_unit_test(test_original_offset),
		cmocka_unit_test(test_escape),
		cmocka_unit_test(test_phone),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
