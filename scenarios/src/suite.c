/* Loading a suite (see kcs/suite.h). */
#include "kcs/suite.h"

#include <stdlib.h>
#include <string.h>

#include "kcs/library.h"

int kcs_suite_load(kcs_suite *suite, const char *const *paths, size_t npaths, char *err,
                   size_t err_size) {
    memset(suite, 0, sizeof *suite);
    kcs_file_list list = {0};
    for (size_t i = 0; i < npaths; i++) {
        if (kcs_library_collect(&list, paths[i], err, err_size) != 0) {
            kcs_file_list_free(&list);
            return -1;
        }
    }
    suite->files = calloc(list.count ? list.count : 1, sizeof *suite->files);
    if (suite->files == NULL) {
        kcs_file_list_free(&list);
        snprintf(err, err_size, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < list.count; i++) {
        kcs_suite_file *f = &suite->files[suite->nfiles++];
        f->path = list.paths[i];
        list.paths[i] = NULL;
        char perr[1024];
        if (kcs_parse_file(f->path, &f->file, perr, sizeof perr) != 0) {
            f->file = NULL;
            f->parse_error = strdup(perr);
            suite->nparse_errors++;
        } else {
            suite->nscenarios += kcs_file_scenario_count(f->file);
        }
    }
    kcs_file_list_free(&list);
    return 0;
}

void kcs_suite_free(kcs_suite *suite) {
    for (size_t i = 0; i < suite->nfiles; i++) {
        free(suite->files[i].path);
        kcs_file_free(suite->files[i].file);
        free(suite->files[i].parse_error);
    }
    free(suite->files);
    memset(suite, 0, sizeof *suite);
}

kcs_suite_entry *kcs_suite_entries(const kcs_suite *suite, size_t *count) {
    kcs_suite_entry *entries = calloc(suite->nscenarios ? suite->nscenarios : 1, sizeof *entries);
    *count = 0;
    if (entries == NULL)
        return NULL;
    for (size_t f = 0; f < suite->nfiles; f++) {
        if (suite->files[f].file == NULL)
            continue;
        size_t n = kcs_file_scenario_count(suite->files[f].file);
        for (size_t i = 0; i < n; i++)
            entries[(*count)++] = (kcs_suite_entry){f, i};
    }
    return entries;
}
