/* Finding scenario files: the paths given on the command line, folders walked
 * recursively for `*.kcs`, in a stable (byte-wise sorted) order so that two
 * runs visit the same files in the same order on every platform. */
#ifndef KCS_LIBRARY_H
#define KCS_LIBRARY_H

#include <stddef.h>

typedef struct {
    char **paths; /* owned; each path owned */
    size_t count;
    size_t capacity;
} kcs_file_list;

/* Appends every scenario file under `path` (a file is taken as is, whatever
 * its name; a folder contributes its `*.kcs` files, recursively). Returns 0,
 * or -1 with a message in `err` (size `err_size`) when `path` does not exist
 * or cannot be read. The list stays valid and sorted on either return. */
int kcs_library_collect(kcs_file_list *list, const char *path, char *err, size_t err_size);

void kcs_file_list_free(kcs_file_list *list);

#endif
