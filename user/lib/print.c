// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <stdarg.h>
#include <stdio.h>
#include "print.h"

bool print_json;
bool print_pretty;

#define MAX_DEPTH 16
static int depth;
static bool need_comma[MAX_DEPTH];

static void indent(void)
{
	if (!print_pretty)
		return;
	putchar('\n');
	for (int i = 0; i < depth; i++)
		fputs("  ", stdout);
}

static void json_escape(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char c = *s;

		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

/* Separator and key for the next JSON value. */
static void json_key(const char *key)
{
	if (need_comma[depth])
		putchar(',');
	need_comma[depth] = true;
	if (depth)
		indent();
	if (key) {
		json_escape(key);
		fputs(print_pretty ? ": " : ":", stdout);
	}
}

static void json_open(const char *key, char c)
{
	json_key(key);
	putchar(c);
	if (depth < MAX_DEPTH - 1)
		depth++;
	need_comma[depth] = false;
}

static void json_close(char c)
{
	bool had = need_comma[depth];

	if (depth)
		depth--;
	if (had)
		indent();
	putchar(c);
}

void print_open_array(const char *key)
{
	if (print_json)
		json_open(key, '[');
}

void print_close_array(void)
{
	if (print_json)
		json_close(']');
}

void print_open_object(const char *key)
{
	if (print_json)
		json_open(key, '{');
}

void print_close_object(void)
{
	if (print_json)
		json_close('}');
}

void print_string(const char *key, const char *fmt, const char *val)
{
	if (print_json) {
		json_key(key);
		if (val)
			json_escape(val);
		else
			fputs("null", stdout);
	} else if (fmt) {
		printf(fmt, val ? val : "-");
	}
}

void print_u64(const char *key, const char *fmt, __u64 val)
{
	if (print_json) {
		json_key(key);
		printf("%llu", (unsigned long long)val);
	} else if (fmt) {
		printf(fmt, (unsigned long long)val);
	}
}

void print_double(const char *key, const char *fmt, double val)
{
	if (print_json) {
		json_key(key);
		printf("%.3f", val);
	} else if (fmt) {
		printf(fmt, val);
	}
}

void print_bool(const char *key, const char *fmt, bool val)
{
	if (print_json) {
		json_key(key);
		fputs(val ? "true" : "false", stdout);
	} else if (fmt) {
		printf(fmt, val ? "yes" : "no");
	}
}

void print_text(const char *fmt, ...)
{
	va_list ap;

	if (print_json)
		return;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
}

void print_end(void)
{
	if (print_json) {
		putchar('\n');
		depth = 0;
		need_comma[0] = false;
	}
	fflush(stdout);
}
