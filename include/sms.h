/*
 * sms.h — SMS segment arithmetic and template rendering. Pure.
 *
 * Segments (3GPP TS 23.038 / 23.040):
 *  GSM-7: when every character is in the GSM 03.38 default alphabet or its
 *   extension table (the extension characters ^ { } \ [ ~ ] | € count two
 *   septets); 160 septets in one segment, 153 per segment when
 *   concatenated; an escape pair is never split across segments.
 *  UCS-2 (UTF-16): otherwise; 70 code units single, 67 per segment when
 *   concatenated; characters outside the BMP count two units (a surrogate
 *   pair) and a pair is never split across segments.
 */
#ifndef GRIDLINE_SMS_H
#define GRIDLINE_SMS_H

#include <stddef.h>

enum sms_encoding { SMS_GSM7, SMS_UCS2 };

struct sms_count {
	enum sms_encoding encoding;
	size_t units;     /* septets (GSM-7) or UTF-16 code units (UCS-2) */
	size_t segments;  /* 0 for the empty text, else >= 1 */
	size_t chars;     /* Unicode code points */
};

/* Count the segments valid UTF-8 text needs. */
void sms_count(const char *utf8, struct sms_count *ret);

/* A name=value pair for sms_render(). */
struct sms_var {
	const char *name;
	const char *value;
};

/*
 * Render a template: "{name}" is replaced by the value of the variable of
 * that name; "{{" and "}}" are literal braces. When the result needs more
 * than max_segments segments and a variable named cut_var (may be NULL) is
 * present, that variable's value is shortened (on a character boundary,
 * ending in "…") to the longest prefix that fits; if even an empty value
 * does not fit, the over-long result is returned as is.
 * Returns 0 and a heap string in *ret, or -EINVAL for an unknown variable
 * or an unbalanced brace (*ret untouched).
 */
int sms_render(const char *tmpl, const struct sms_var *vars, size_t n_vars,
	       size_t max_segments, const char *cut_var, char **ret);

/*
 * Check a template against the allowed variable names (NULL-terminated).
 * Returns 0, or -EINVAL and a reason in err[errsize].
 */
int sms_template_check(const char *tmpl, const char *const *allowed, char *err, size_t errsize);

#endif
