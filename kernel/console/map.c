/*
 * The address-space map: what `map` (and the demo) print, as VMMap shows a
 * process.  Only the public interface is used: a VirtualQuery walk from 0 to
 * HM_USER_LIMIT, and hostmem_resident_pages for the pages holding a frame.
 *
 * The walk's regions become rows of three kinds, in address order:
 *
 *   free         a MEM_FREE region (space acquired by the runtime reads free)
 *   reservation  one per reservation, just before its regions: its base
 *                (the AllocationBase), its whole size, AllocationProtect,
 *                and its regions' committed and resident pages added up
 *   region       a run of pages with one state and protection inside the
 *                reservation above it (indented in the text)
 *
 * Committed pages are the region's size when it is MEM_COMMIT.  Resident
 * pages hold a frame: touched since the commit, or mapped with a touched
 * neighbour by fault-around (hostmem/fault.c), so a touch shows up to a
 * 64 KiB cluster; committed minus resident is what is still owed.
 *
 * The three formats print the same rows with the same fields: the text for
 * a person (sizes in the unit that reads best, hex addresses), JSON and CSV
 * for a program (bytes and addresses as decimal numbers, flag names as the
 * text has them).  The text ends with the totals, which JSON has as an
 * object and CSV leaves to the reader.
 */
#include "map.h"
#include "commands.h"
#include "kernel/print.h"
#include "names.h"
#include "shell.h"
#include "hostmem/format.h"

enum row_kind { ROW_FREE, ROW_RESERVATION, ROW_REGION };
static const char *const kind_name[] = { "free", "reservation", "region" };

struct map_row {
	enum row_kind kind;
	uint64_t base, size, alloc_base;
	DWORD state, protect, type, alloc_protect;
	uint64_t committed, resident;        /* pages */
};

struct walk {
	IHostMemoryManager *m;
	enum map_format f;
	uint64_t rows;                       /* printed so far */
	uint64_t regions, reservations, committed, resident, reserved_bytes, free_bytes;
};

static HRESULT query(IHostMemoryManager *m, uint64_t va, MEMORY_BASIC_INFORMATION *mbi)
{
	SIZE_T n;

	return IHostMemoryManager_VirtualQuery(m, (void *)va, mbi, sizeof(*mbi), &n);
}

/* 0 when the manager cannot say (it became unusable): the map still reads. */
static uint64_t resident(IHostMemoryManager *m, uint64_t base, uint64_t size)
{
	SIZE_T n = 0;

	return hostmem_resident_pages(m, (void *)base, size, &n) == S_OK ? n : 0;
}

/* ------------------------------------------------------------ the three formats */

static void text_header(void)
{
	kprintf("  %-20s %-11s %-12s %-12s %-26s %-18s %9s %9s\n", "Address", "Size", "State",
	        "Type", "Protect", "AllocationBase", "Committed", "Resident");
}

/* A row of the table: a region is indented under its reservation. */
static void text_row(const struct map_row *r)
{
	char size[24], prot[64], type[32], ab[20] = "-", c[24] = "-", res[24] = "-";
	int inner = r->kind == ROW_REGION;

	if (r->kind != ROW_FREE) {
		hm_snprintf(ab, sizeof(ab), "0x%016llx", (unsigned long long)r->alloc_base);
		hm_snprintf(c, sizeof(c), "%llu", (unsigned long long)r->committed);
		hm_snprintf(res, sizeof(res), "%llu", (unsigned long long)r->resident);
	}
	kprintf("  %s%p%s %-11s %-12s %-12s %-26s %-18s %9s %9s\n", inner ? "  " : "",
	        (void *)r->base, inner ? "" : "  ", amount(r->size, size),
	        r->kind == ROW_RESERVATION ? "reservation" : state_name(r->state),
	        r->type ? memtype_name(r->type, type, sizeof(type)) : "-",
	        protect_name(r->protect, prot, sizeof(prot)), ab, c, res);
}

static void text_totals(const struct walk *w)
{
	char c[24], res[24], rsv[24], fr[24];

	kprintf("  %llu region%s in %llu reservation%s: %s committed (%llu pages), %s resident "
	        "(%llu pages), %s reserved only, %s free\n", (unsigned long long)w->regions,
	        w->regions == 1 ? "" : "s", (unsigned long long)w->reservations,
	        w->reservations == 1 ? "" : "s", amount(w->committed * HM_PAGE_SIZE, c),
	        (unsigned long long)w->committed, amount(w->resident * HM_PAGE_SIZE, res),
	        (unsigned long long)w->resident, amount(w->reserved_bytes, rsv),
	        amount(w->free_bytes, fr));
}

#define CSV_HEADER "row,base,size,state,type,protect,allocation_base,allocation_protect," \
                   "committed_pages,resident_pages"

/* A free row has no type nor allocation: empty in CSV, null in JSON. */
static void csv_row(const struct map_row *r)
{
	char prot[64], type[32], aprot[64];
	int f = r->kind == ROW_FREE;

	kprintf("%s,%llu,%llu,%s,%s,%s,", kind_name[r->kind], (unsigned long long)r->base,
	        (unsigned long long)r->size, r->kind == ROW_RESERVATION ? "" : state_name(r->state),
	        f ? "" : memtype_name(r->type, type, sizeof(type)),
	        protect_name(r->protect, prot, sizeof(prot)));
	if (!f)
		kprintf("%llu,%s", (unsigned long long)r->alloc_base,
		        protect_name(r->alloc_protect, aprot, sizeof(aprot)));
	else
		kprintf(",");
	kprintf(",%llu,%llu\n", (unsigned long long)r->committed, (unsigned long long)r->resident);
}

static void json_row(const struct map_row *r, int first)
{
	char prot[64], type[32], aprot[64];

	kprintf("%s\n    {\"row\": \"%s\", \"base\": %llu, \"size\": %llu, ", first ? "" : ",",
	        kind_name[r->kind], (unsigned long long)r->base, (unsigned long long)r->size);
	if (r->kind == ROW_RESERVATION)
		kprintf("\"state\": null, ");
	else
		kprintf("\"state\": \"%s\", ", state_name(r->state));
	if (r->kind == ROW_FREE)
		kprintf("\"type\": null, \"protect\": \"%s\", \"allocation_base\": null, "
		        "\"allocation_protect\": null, ", protect_name(r->protect, prot, sizeof(prot)));
	else
		kprintf("\"type\": \"%s\", \"protect\": \"%s\", \"allocation_base\": %llu, "
		        "\"allocation_protect\": \"%s\", ", memtype_name(r->type, type, sizeof(type)),
		        protect_name(r->protect, prot, sizeof(prot)), (unsigned long long)r->alloc_base,
		        protect_name(r->alloc_protect, aprot, sizeof(aprot)));
	kprintf("\"committed_pages\": %llu, \"resident_pages\": %llu}",
	        (unsigned long long)r->committed, (unsigned long long)r->resident);
}

static void json_end(const struct walk *w, HRESULT hr)
{
	kprintf("\n  ],\n  \"totals\": {\"regions\": %llu, \"reservations\": %llu, "
	        "\"committed_pages\": %llu, \"resident_pages\": %llu, \"reserved_only_bytes\": %llu, "
	        "\"free_bytes\": %llu},\n  \"result\": \"%s\"\n}\n",
	        (unsigned long long)w->regions, (unsigned long long)w->reservations,
	        (unsigned long long)w->committed, (unsigned long long)w->resident,
	        (unsigned long long)w->reserved_bytes, (unsigned long long)w->free_bytes,
	        hostmem_hresult_name(hr));
}

static void show(struct walk *w, const struct map_row *r)
{
	if (w->f == MAP_TEXT)
		text_row(r);
	else if (w->f == MAP_CSV)
		csv_row(r);
	else
		json_row(r, w->rows == 0);
	w->rows++;
}

/* ------------------------------------------------------------ the walk */

/* A region row, counted in the totals. */
static void show_region(struct walk *w, const MEMORY_BASIC_INFORMATION *mbi)
{
	struct map_row r = {
		.kind = mbi->State == MEM_FREE ? ROW_FREE : ROW_REGION,
		.base = (uint64_t)mbi->BaseAddress, .size = mbi->RegionSize,
		.alloc_base = (uint64_t)mbi->AllocationBase, .state = mbi->State,
		.protect = mbi->Protect, .type = mbi->Type, .alloc_protect = mbi->AllocationProtect,
	};

	if (r.state == MEM_COMMIT) {
		r.committed = r.size / HM_PAGE_SIZE;
		r.resident = resident(w->m, r.base, r.size);
	}
	w->regions++;
	w->committed += r.committed;
	w->resident += r.resident;
	w->reserved_bytes += r.state == MEM_RESERVE ? r.size : 0;
	w->free_bytes += r.state == MEM_FREE ? r.size : 0;
	show(w, &r);
}

/* The reservation whose first region is first: a look ahead over its
 * regions adds up its size and committed pages, then its row is shown. */
static void show_reservation(struct walk *w, const MEMORY_BASIC_INFORMATION *first)
{
	struct map_row r = {
		.kind = ROW_RESERVATION, .base = (uint64_t)first->AllocationBase,
		.alloc_base = (uint64_t)first->AllocationBase, .protect = first->AllocationProtect,
		.type = first->Type, .alloc_protect = first->AllocationProtect,
	};
	MEMORY_BASIC_INFORMATION m = *first;
	uint64_t va = r.base;

	while ((uint64_t)m.AllocationBase == r.base && m.State != MEM_FREE) {
		r.committed += m.State == MEM_COMMIT ? m.RegionSize / HM_PAGE_SIZE : 0;
		va += m.RegionSize;
		if (va >= HM_USER_LIMIT || query(w->m, va, &m) != S_OK)
			break;
	}
	r.size = va - r.base;
	r.resident = resident(w->m, r.base, r.size);
	w->reservations++;
	show(w, &r);
}

HRESULT map_print(IHostMemoryManager *m, enum map_format f)
{
	struct walk w = { .m = m, .f = f };
	MEMORY_BASIC_INFORMATION mbi;
	HRESULT hr = S_OK;
	uint64_t va = 0;

	if (f == MAP_TEXT)
		text_header();
	else if (f == MAP_CSV)
		kprintf(CSV_HEADER "\n");
	else
		kprintf("{\n  \"page_size\": %u,\n  \"rows\": [", HM_PAGE_SIZE);
	while (va < HM_USER_LIMIT && (hr = query(m, va, &mbi)) == S_OK) {
		if (mbi.State != MEM_FREE && (uint64_t)mbi.AllocationBase == va)
			show_reservation(&w, &mbi);
		show_region(&w, &mbi);
		va += mbi.RegionSize;
	}
	if (f == MAP_TEXT)
		text_totals(&w);
	else if (f == MAP_JSON)
		json_end(&w, hr);
	return hr;
}

int cmd_map(int argc, char **argv)
{
	enum map_format f = MAP_TEXT;
	HRESULT hr;

	if (argc > 2)
		return CMD_USAGE;
	if (argc == 2 && word_is(argv[1], "json"))
		f = MAP_JSON;
	else if (argc == 2 && word_is(argv[1], "csv"))
		f = MAP_CSV;
	else if (argc == 2 && !word_is(argv[1], "text"))
		return CMD_USAGE;
	hr = map_print(shell_mgr(), f);
	if (hr != S_OK && f != MAP_JSON)
		kprintf("VirtualQuery -> %s: the map stops here\n", hostmem_hresult_name(hr));
	return 0;
}
