/*
 * iid.c - the interface identities (the GUIDs of MSCorEE.h) and comparing
 * them, for the two COM objects' QueryInterface (manager.c, malloc.c).
 */
#include "hm.h"

const IID IID_IUnknown = { 0x00000000, 0x0000, 0x0000, { 0xC0, 0, 0, 0, 0, 0, 0, 0x46 } };
const IID IID_IHostMemoryManager = { 0x7BC698D1, 0xF9E3, 0x4460,
	{ 0x9C, 0xDE, 0xD0, 0x42, 0x48, 0xE9, 0xFA, 0x25 } };
const IID IID_IHostMalloc = { 0x1831991C, 0xCC53, 0x4A31,
	{ 0xB2, 0x18, 0x04, 0xE9, 0x10, 0x44, 0x64, 0x79 } };
const IID IID_ICLRMemoryNotificationCallback = { 0x47EB8E57, 0x0846, 0x4546,
	{ 0xAF, 0x76, 0x6F, 0x42, 0xFC, 0xFC, 0x26, 0x49 } };

bool hm_same_iid(REFIID a, REFIID b)
{
	const uint8_t *x = (const uint8_t *)a, *y = (const uint8_t *)b;

	for (size_t i = 0; i < sizeof(IID); i++)
		if (x[i] != y[i])
			return false;
	return true;
}
