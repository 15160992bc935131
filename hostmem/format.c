/*
 * format.c - printf for code without libc.
 *
 * One pass over the format string; each conversion becomes a digit string in
 * a small local buffer (an unsigned 64-bit value needs at most 22 octal or 20
 * decimal digits), then padding and sign are emitted around it.  Nothing is
 * allocated and no floating point is used, so it runs in the kernel with
 * -mgeneral-regs-only and inside hostmem under its lock.
 */
#include "format.h"

#include <stdint.h>
#include <stdbool.h>

struct spec {
	bool left;      /* '-' */
	char pad;       /* ' ' or '0' */
	int width;
	int length;     /* 0 int, 1 long, 2 long long, 3 size_t */
};

struct out {
	hm_putc_fn put;
	void *ctx;
	size_t n;
};

static void emit(struct out *o, char c)
{
	o->put(o->ctx, c);
	o->n++;
}

static void emit_padded(struct out *o, const struct spec *s, const char *sign,
                        const char *body, size_t len)
{
	size_t slen = 0, total;

	while (sign[slen])
		slen++;
	total = slen + len;
	/* Zero padding goes between the sign and the digits, spaces before both. */
	if (!s->left && s->pad == ' ')
		for (size_t i = total; i < (size_t)s->width; i++)
			emit(o, ' ');
	for (size_t i = 0; i < slen; i++)
		emit(o, sign[i]);
	if (!s->left && s->pad == '0')
		for (size_t i = total; i < (size_t)s->width; i++)
			emit(o, '0');
	for (size_t i = 0; i < len; i++)
		emit(o, body[i]);
	if (s->left)
		for (size_t i = total; i < (size_t)s->width; i++)
			emit(o, ' ');
}

static void emit_unsigned(struct out *o, const struct spec *s, const char *sign,
                          uint64_t v, unsigned base, bool upper)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char buf[24];
	size_t i = sizeof(buf);

	do {
		buf[--i] = digits[v % base];
		v /= base;
	} while (v);
	emit_padded(o, s, sign, buf + i, sizeof(buf) - i);
}

static uint64_t arg_unsigned(const struct spec *s, va_list *ap)
{
	switch (s->length) {
	case 1: return va_arg(*ap, unsigned long);
	case 2: return va_arg(*ap, unsigned long long);
	case 3: return va_arg(*ap, size_t);
	default: return va_arg(*ap, unsigned int);
	}
}

static int64_t arg_signed(const struct spec *s, va_list *ap)
{
	switch (s->length) {
	case 1: return va_arg(*ap, long);
	case 2: return va_arg(*ap, long long);
	case 3: return (int64_t)va_arg(*ap, size_t);
	default: return va_arg(*ap, int);
	}
}

/* Parses flags, width and length after '%'; returns the conversion char's position. */
static const char *parse_spec(const char *f, struct spec *s, va_list *ap)
{
	*s = (struct spec){ .pad = ' ' };
	for (;; f++) {
		if (*f == '-')
			s->left = true;
		else if (*f == '0')
			s->pad = '0';
		else
			break;
	}
	if (*f == '*') {
		s->width = va_arg(*ap, int);
		if (s->width < 0) {
			s->left = true;
			s->width = -s->width;
		}
		f++;
	}
	for (; *f >= '0' && *f <= '9'; f++)
		s->width = s->width * 10 + (*f - '0');
	if (s->left)
		s->pad = ' ';
	if (*f == 'z') {
		s->length = 3;
		f++;
	}
	for (; *f == 'l' && s->length < 2; f++)
		s->length++;
	return f;
}

static void convert(struct out *o, char c, struct spec *s, va_list *ap)
{
	switch (c) {
	case 'd': case 'i': {
		int64_t v = arg_signed(s, ap);
		uint64_t mag = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
		emit_unsigned(o, s, v < 0 ? "-" : "", mag, 10, false);
		break;
	}
	case 'u': emit_unsigned(o, s, "", arg_unsigned(s, ap), 10, false); break;
	case 'x': emit_unsigned(o, s, "", arg_unsigned(s, ap), 16, false); break;
	case 'X': emit_unsigned(o, s, "", arg_unsigned(s, ap), 16, true); break;
	case 'p':
		s->pad = '0';
		s->width = 18;
		emit_unsigned(o, s, "0x", (uintptr_t)va_arg(*ap, void *), 16, false);
		break;
	case 'c': {
		char ch = (char)va_arg(*ap, int);
		emit_padded(o, s, "", &ch, 1);
		break;
	}
	case 's': {
		const char *str = va_arg(*ap, const char *);
		size_t len = 0;
		if (!str)
			str = "(null)";
		while (str[len])
			len++;
		s->pad = ' ';
		emit_padded(o, s, "", str, len);
		break;
	}
	case '%': emit(o, '%'); break;
	default:  /* unknown conversion: show it rather than guess */
		emit(o, '%');
		if (c)
			emit(o, c);
	}
}

size_t hm_vformat(hm_putc_fn put, void *ctx, const char *fmt, va_list ap)
{
	struct out o = { put, ctx, 0 };
	struct spec s;
	va_list args;

	va_copy(args, ap);
	while (*fmt) {
		if (*fmt != '%') {
			emit(&o, *fmt++);
			continue;
		}
		fmt = parse_spec(fmt + 1, &s, &args);
		convert(&o, *fmt, &s, &args);
		if (*fmt)
			fmt++;
	}
	va_end(args);
	return o.n;
}

struct sbuf {
	char *buf;
	size_t len;
	size_t pos;
};

static void sbuf_put(void *ctx, char c)
{
	struct sbuf *b = ctx;

	if (b->pos + 1 < b->len)
		b->buf[b->pos] = c;
	b->pos++;
}

size_t hm_vsnprintf(char *buf, size_t len, const char *fmt, va_list ap)
{
	struct sbuf b = { buf, len, 0 };
	size_t n = hm_vformat(sbuf_put, &b, fmt, ap);

	if (len)
		buf[b.pos < len ? b.pos : len - 1] = '\0';
	return n;
}

size_t hm_snprintf(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	size_t n;

	va_start(ap, fmt);
	n = hm_vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	return n;
}
