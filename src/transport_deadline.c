/* Reads and writes cut at a deadline; see transport_deadline.h. */
#include "transport_deadline.h"

#include "clock.h"

/* The time left, clipped to want; 0 once the deadline has passed. */
static int left_ms(struct transport_deadline *dt, int want)
{
	long long left = dt->deadline_ms - now_ms();
	if (left <= 0) {
		dt->expired = true;
		return 0;
	}
	return want >= 0 && want < left ? want : (int)left;
}

static ssize_t deadline_read(struct transport *t, void *buf, size_t len, int timeout_ms)
{
	struct transport_deadline *dt = (struct transport_deadline *)t;
	int ms = left_ms(dt, timeout_ms);
	if (dt->expired)
		return -1;
	return dt->inner->ops->read(dt->inner, buf, len, ms);
}

static enum ath_err deadline_write(struct transport *t, const void *buf, size_t len, int timeout_ms)
{
	struct transport_deadline *dt = (struct transport_deadline *)t;
	int ms = left_ms(dt, timeout_ms);
	if (dt->expired)
		return ATH_E_TIMEOUT;
	return dt->inner->ops->write(dt->inner, buf, len, ms);
}

static void deadline_flush(struct transport *t)
{
	struct transport_deadline *dt = (struct transport_deadline *)t;
	if (dt->inner->ops->flush_input)
		dt->inner->ops->flush_input(dt->inner);
}

static void deadline_close(struct transport *t)
{
	/* The inner transport stays with whoever opened it. */
	(void)t;
}

static void deadline_hint(struct transport *t, enum transport_hint h)
{
	struct transport_deadline *dt = (struct transport_deadline *)t;
	if (dt->inner->ops->hint)
		dt->inner->ops->hint(dt->inner, h);
}

static const char *deadline_error(struct transport *t)
{
	struct transport_deadline *dt = (struct transport_deadline *)t;
	if (dt->expired)
		return "no answer within the time allowed";
	return dt->inner->ops->error ? dt->inner->ops->error(dt->inner) : NULL;
}

static const struct transport_ops deadline_ops = {
	.name = "deadline",
	.read = deadline_read,
	.write = deadline_write,
	.flush_input = deadline_flush,
	.close = deadline_close,
	.abandon = deadline_close,
	.hint = deadline_hint,
	.error = deadline_error,
};

void transport_deadline_init(struct transport_deadline *dt, struct transport *inner, int budget_ms)
{
	*dt = (struct transport_deadline){
		.base = { .ops = &deadline_ops, .fd = inner->fd, .priv = NULL },
		.inner = inner,
		.deadline_ms = now_ms() + (budget_ms > 0 ? budget_ms : 0),
	};
}
