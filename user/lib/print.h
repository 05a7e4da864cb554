/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * One printing path for text and JSON, so the two never drift: each field is
 * given once with its JSON key and its text format. In JSON mode the format
 * is ignored; in text mode the key is (a NULL format prints nothing).
 */
#ifndef XVR_PRINT_H
#define XVR_PRINT_H

#include <stdbool.h>
#include <linux/types.h>

extern bool print_json;
extern bool print_pretty;

void print_open_array(const char *key);		/* key NULL inside arrays/top */
void print_close_array(void);
void print_open_object(const char *key);
void print_close_object(void);
void print_string(const char *key, const char *fmt, const char *val);
void print_u64(const char *key, const char *fmt, __u64 val);
void print_double(const char *key, const char *fmt, double val);
void print_bool(const char *key, const char *fmt, bool val);
/* Text-only output (headers, newlines); ignored in JSON mode. */
void print_text(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Ends the document (a newline after the JSON value). */
void print_end(void);

#endif
