/* `keyclass errmap [--mutant NAME]`: the OSStatus → result-code table the
 * core implements, for docs and for diffing against domain.md §6. */
#include <stdio.h>
#include <string.h>

#include "kcs/cli.h"
#include "ref/errmap.h"

int kcs_cli_errmap(int argc, char **argv) {
    ref_mutant_set mutants = REF_MUTANTS_NONE;
    for (int i = 0; i < argc; i++) {
        ref_mutant m;
        if (strcmp(argv[i], "--mutant") == 0 && i + 1 < argc) {
            if (!ref_mutant_from_name(argv[++i], &m))
                return kcs_cli_usage_error("errmap: unknown mutant '%s'", argv[i]);
            mutants |= REF_MUTANT_BIT(m);
        } else {
            return kcs_cli_usage_error("errmap: unknown argument '%s'", argv[i]);
        }
    }
    ref_errmap_print(stdout, mutants);
    return fflush(stdout) == 0 ? 0 : 2;
}
