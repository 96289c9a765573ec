/* Scenario file discovery (see kcs/library.h). */
#include "kcs/library.h"
#include "kcs_grow.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int list_append(kcs_file_list *list, const char *path) {
    char **grown = kcs_grow(list->paths, list->count, &list->capacity, sizeof *grown, 16);
    if (grown == NULL)
        return -1;
    list->paths = grown;
    char *copy = strdup(path);
    if (copy == NULL)
        return -1;
    list->paths[list->count++] = copy;
    return 0;
}

static int compare_paths(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int has_kcs_suffix(const char *name) {
    size_t n = strlen(name);
    return n > 4 && strcmp(name + n - 4, ".kcs") == 0;
}

static int walk(kcs_file_list *list, const char *dir, char *err, size_t err_size) {
    DIR *d = opendir(dir);
    if (d == NULL) {
        snprintf(err, err_size, "%s: %s", dir, strerror(errno));
        return -1;
    }
    int rc = 0;
    struct dirent *entry;
    while (rc == 0 && (entry = readdir(d)) != NULL) {
        if (entry->d_name[0] == '.')
            continue; /* ., .. and hidden files (editor swap files) */
        size_t len = strlen(dir) + 1 + strlen(entry->d_name) + 1;
        char *child = malloc(len);
        if (child == NULL) {
            snprintf(err, err_size, "out of memory");
            rc = -1;
            break;
        }
        snprintf(child, len, "%s/%s", dir, entry->d_name);
        struct stat st;
        if (stat(child, &st) != 0) {
            snprintf(err, err_size, "%s: %s", child, strerror(errno));
            rc = -1;
        } else if (S_ISDIR(st.st_mode)) {
            rc = walk(list, child, err, err_size);
        } else if (S_ISREG(st.st_mode) && has_kcs_suffix(entry->d_name)) {
            if (list_append(list, child) != 0) {
                snprintf(err, err_size, "out of memory");
                rc = -1;
            }
        }
        free(child);
    }
    closedir(d);
    return rc;
}

int kcs_library_collect(kcs_file_list *list, const char *path, char *err, size_t err_size) {
    struct stat st;
    int rc;
    if (stat(path, &st) != 0) {
        snprintf(err, err_size, "%s: %s", path, strerror(errno));
        rc = -1;
    } else if (S_ISDIR(st.st_mode)) {
        rc = walk(list, path, err, err_size);
    } else if (list_append(list, path) != 0) {
        snprintf(err, err_size, "out of memory");
        rc = -1;
    } else {
        rc = 0;
    }
    if (list->count > 1)
        qsort(list->paths, list->count, sizeof *list->paths, compare_paths);
    return rc;
}

void kcs_file_list_free(kcs_file_list *list) {
    for (size_t i = 0; i < list->count; i++)
        free(list->paths[i]);
    free(list->paths);
    list->paths = NULL;
    list->count = list->capacity = 0;
}
