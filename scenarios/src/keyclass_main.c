/* The keyclass command line: dispatches to one handler per subcommand. */
#include <stdio.h>
#include <string.h>

#include "kcs/cli.h"
#include "kcs/version.h"

static void print_help(FILE *out) {
    fputs(KCS_USAGE_LINE "\n"
                         "\n"
                         "Deterministic test and fault-injection harness for keychain-backed\n"
                         "macOS key storage.\n"
                         "\n"
                         "commands:\n"
                         "  run [PATH...]      run scenario files or folders (default: scenarios)\n"
                         "      --mutant NAME  against a mutant of the reference core\n"
                         "      --seed N       world seed (default 1)\n"
                         "      --json FILE    results as JSON\n"
                         "      --junit FILE   results as JUnit XML\n"
                         "      --trace        print the whole journal of each failure\n"
                         "      --quiet        print failures and the summary only\n"
                         "  mutants [PATH...]  the mutation matrix (--list: the mutants; --json FILE)\n"
                         "  explore FILE       every schedule of a scenario's parallel blocks and\n"
                         "                     every crash point of its sweeps; stops at the first\n"
                         "                     failure and prints the shortest failing schedule\n"
                         "      --scenario NAME  one scenario of FILE\n"
                         "      --bound N      systematic schedules before a random sample (2000)\n"
                         "      --random N     only a random sample of N schedules\n"
                         "      --seed S       the random sample's seed (default 1)\n"
                         "      --mutant NAME  --no-reduction  --keep-going  --trace\n"
                         "  replay FILE --schedule S  rerun one schedule (\"a,a,b\") with its journal\n"
                         "      --scenario NAME  --mutant NAME\n"
                         "  errmap             the OSStatus -> result-code table (--mutant NAME)\n"
                         "  coverage [PATH...] state-machine coverage: cells reached and missed\n"
                         "      --seed N  --json FILE\n"
                         "  report [PATH...]   the HTML report: build/report/index.html + report.json\n"
                         "      --out DIR      output folder (default build/report)\n"
                         "      --seed N  --no-dot\n"
                         "\n"
                         "options:\n"
                         "  --help             show this help and exit\n"
                         "  --version          print the version and exit\n",
          out);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fputs(KCS_USAGE_LINE "\n", stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        print_help(stdout);
        return 0;
    }
    if (strcmp(cmd, "--version") == 0) {
        printf("keyclass %s\n", KEYCLASS_VERSION);
        return 0;
    }
    if (strcmp(cmd, "run") == 0)
        return kcs_cli_run(argc - 2, argv + 2);
    if (strcmp(cmd, "mutants") == 0)
        return kcs_cli_mutants(argc - 2, argv + 2);
    if (strcmp(cmd, "errmap") == 0)
        return kcs_cli_errmap(argc - 2, argv + 2);
    if (strcmp(cmd, "explore") == 0)
        return kcs_cli_explore(argc - 2, argv + 2);
    if (strcmp(cmd, "replay") == 0)
        return kcs_cli_replay(argc - 2, argv + 2);
    if (strcmp(cmd, "coverage") == 0)
        return kcs_cli_coverage(argc - 2, argv + 2);
    if (strcmp(cmd, "report") == 0)
        return kcs_cli_report(argc - 2, argv + 2);
    return kcs_cli_usage_error("unknown command '%s'", cmd);
}
