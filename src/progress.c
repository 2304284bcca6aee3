/* progress: how far a long transform has got, on stderr (see progress.h). */
#include "progress.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "message.h"

/* The clock is read once every CHECK_EVERY records (a power of two). */
#define CHECK_EVERY 65536
/* Nothing is shown before a run has lasted this long. */
#define FIRST_DRAW_MS 1000
/* Redraw intervals: on a terminal, and for a new line elsewhere. */
#define TTY_INTERVAL_MS 250
#define LINE_INTERVAL_MS 1000
/* The longest line drawn. */
#define LINE_MAX_LENGTH 160

static struct {
	bool enabled;
	bool tty;		/* redraw in place; otherwise one line per update */
	uint64_t total;		/* input size, 0 if unknown */
	uint64_t records;
	uint64_t start_ms;
	uint64_t last_ms;	/* of the last line drawn, 0 if none yet */
} progress;
/*
 * Columns of the line on the terminal, 0 if none: set before the line is
 * written, and read by progress_erase_from_signal_handler.
 */
static volatile sig_atomic_t shown;

static void progress_clear(void);

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void
progress_init(bool enabled, uint64_t total)
{
	memset(&progress, 0, sizeof progress);
	progress.enabled = enabled;
	progress.tty = isatty(STDERR_FILENO);
	progress.total = total;
	progress.start_ms = now_ms();
	shown = 0;
	message_set_before_print(progress_clear);
}

/*
 * n in the largest of units that it reaches, each base times the one
 * before: as it is below units[1], else with one decimal ("1.2 GiB",
 * "81.3M").
 */
static void
format_scaled(char *buf, size_t size, double n, double base, const char *const units[],
    int n_units)
{
	int u = 0;

	while (n >= base && u < n_units - 1) {
		n /= base;
		u++;
	}
	snprintf(buf, size, u == 0 ? "%.0f%s" : "%.1f%s", n, units[u]);
}

static void
format_bytes(char *buf, size_t size, uint64_t n)
{
	static const char *const units[] = { " B", " KiB", " MiB", " GiB", " TiB", " PiB" };

	format_scaled(buf, size, (double)n, 1024, units, 6);
}

static void
format_count(char *buf, size_t size, double n)
{
	static const char *const units[] = { "", "k", "M", "G", "T" };

	format_scaled(buf, size, n, 1000, units, 5);
}

void
progress_draw(uint64_t offset)
{
	char line[LINE_MAX_LENGTH], read[32], total[32], records[32], rate[32];
	uint64_t now = now_ms();
	double seconds = (double)(now - progress.start_ms) / 1000;
	int len;

	format_bytes(read, sizeof read, offset);
	format_count(records, sizeof records, (double)progress.records);
	format_count(rate, sizeof rate, (double)progress.records / (seconds > 0 ? seconds : 1));
	if (progress.total > 0 && offset <= progress.total) {
		format_bytes(total, sizeof total, progress.total);
		len = snprintf(line, sizeof line, "%s: %s of %s (%d%%), %s records (%s/s)",
		    PROGRAM_NAME, read, total, (int)(offset * 100 / progress.total), records, rate);
	} else {
		len = snprintf(line, sizeof line, "%s: %s read, %s records (%s/s)", PROGRAM_NAME,
		    read, records, rate);
	}
	if (len < 0)
		return;
	if ((size_t)len >= sizeof line)
		len = sizeof line - 1;
	if (progress.tty) {
		/* Spaces over the rest of a longer previous line: no terminal escapes needed. */
		int pad = shown > len ? shown - len : 0;
		shown = len + pad;
		fprintf(stderr, "\r%s%*s", line, pad, "");
	} else {
		fprintf(stderr, "%s\n", line);
	}
	progress.last_ms = now;
}

/* Whether a line is due by the clock: apart, so that progress_due stays a few instructions. */
static __attribute__((noinline)) bool
due_by_clock(void)
{
	uint64_t now = now_ms();

	if (now - progress.start_ms < FIRST_DRAW_MS)
		return false;
	return progress.last_ms == 0 ||
	    now - progress.last_ms >= (progress.tty ? TTY_INTERVAL_MS : LINE_INTERVAL_MS);
}

/* The clock is read once every CHECK_EVERY records. */
bool
progress_due(uint64_t n)
{
	uint64_t before = progress.records;

	if (!progress.enabled)
		return false;
	progress.records += n;
	return before / CHECK_EVERY != progress.records / CHECK_EVERY && due_by_clock();
}

/* Erase the line on a terminal, before another message is printed. */
static void
progress_clear(void)
{
	if (shown > 0) {
		fprintf(stderr, "\r%*s\r", (int)shown, "");
		shown = 0;
	}
}

void
progress_erase_from_signal_handler(void)
{
	char blank[LINE_MAX_LENGTH + 2];
	int n = shown;

	if (n <= 0 || n >= LINE_MAX_LENGTH)
		return;
	blank[0] = '\r';
	for (int i = 1; i <= n; i++)
		blank[i] = ' ';
	blank[n + 1] = '\r';
	if (write(STDERR_FILENO, blank, (size_t)n + 2) < 0) {
		/* stderr is gone: nothing to erase */
	}
}

void
progress_end(void)
{
	progress_clear();
	progress.enabled = false;
}
