/*
 * Reading whole files from the ESP the loader itself was loaded from.
 *
 * The volume is found through the loader's own LoadedImage protocol: its
 * DeviceHandle is the partition that held BOOTX64.EFI, so the kernel always
 * comes from the same disk as the loader, whatever else is attached.  Files
 * are read entirely into EfiLoaderData pool; that memory is free once the
 * kernel runs, so nothing read here may be referenced after the hand-over
 * (the loader copies what it keeps).
 */
#include "boot/services.h"

static EFI_GUID loaded_image_guid = EFI_LOADED_IMAGE_PROTOCOL_GUID;
static EFI_GUID simple_fs_guid = EFI_SIMPLE_FILE_SYSTEM_PROTOCOL_GUID;
static EFI_GUID file_info_guid = EFI_FILE_INFO_ID;

EFI_STATUS file_open_root(EFI_HANDLE image, EFI_FILE_HANDLE *root)
{
	EFI_LOADED_IMAGE *li;
	EFI_SIMPLE_FILE_SYSTEM_PROTOCOL *fs;
	EFI_STATUS st;

	st = BS->HandleProtocol(image, &loaded_image_guid, (void **)&li);
	if (EFI_ERROR(st))
		return st;
	st = BS->HandleProtocol(li->DeviceHandle, &simple_fs_guid, (void **)&fs);
	if (EFI_ERROR(st))
		return st;
	return fs->OpenVolume(fs, root);
}

static EFI_STATUS file_size(EFI_FILE_HANDLE f, UINTN *size)
{
	/* Room for EFI_FILE_INFO plus a short name; 8-byte aligned. */
	UINT64 info[64];
	UINTN n = sizeof(info);
	EFI_STATUS st;

	st = f->GetInfo(f, &file_info_guid, &n, info);
	if (!EFI_ERROR(st))
		*size = ((EFI_FILE_INFO *)info)->FileSize;
	return st;
}

static EFI_STATUS read_all(EFI_FILE_HANDLE f, UINT8 *buf, UINTN size)
{
	UINTN done = 0, n;
	EFI_STATUS st;

	while (done < size) {
		n = size - done;
		st = f->Read(f, &n, buf + done);
		if (EFI_ERROR(st))
			return st;
		if (n == 0)     /* the file shrank under us */
			return EFI_END_OF_FILE;
		done += n;
	}
	return EFI_SUCCESS;
}

/*
 * Read \name into a fresh pool buffer (*buf, *size bytes; *buf is non-NULL
 * even for an empty file).  EFI_NOT_FOUND if the file does not exist.
 */
EFI_STATUS file_read(EFI_FILE_HANDLE root, CHAR16 *name, void **buf,
		     UINTN *size)
{
	EFI_FILE_HANDLE f;
	EFI_STATUS st;

	st = root->Open(root, &f, name, EFI_FILE_MODE_READ, 0);
	if (EFI_ERROR(st))
		return st;
	st = file_size(f, size);
	if (!EFI_ERROR(st))
		st = BS->AllocatePool(EfiLoaderData, *size + 1, buf);
	if (!EFI_ERROR(st)) {
		st = read_all(f, *buf, *size);
		if (EFI_ERROR(st))
			BS->FreePool(*buf);
	}
	f->Close(f);
	return st;
}
