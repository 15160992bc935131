/*
 * The address-space map, like VMMap: every region of a VirtualQuery walk,
 * grouped under its reservation, with its committed and resident pages;
 * as a table to read, or as JSON or CSV for a program (scripts/map-plot.sh
 * draws the CSV).  map.c says what each row means.
 */
#ifndef KERNEL_MAP_H
#define KERNEL_MAP_H

#include "hostmem/hostmem.h"

enum map_format { MAP_TEXT, MAP_JSON, MAP_CSV };

/* Prints m's whole address space in the format; S_OK, or the HRESULT of
 * the VirtualQuery that failed (after the rows printed so far). */
HRESULT map_print(IHostMemoryManager *m, enum map_format f);

#endif
