/* registry.c — certflow registry (being written for issue 3). */
#include "cli.h"

int cli_cmd_registry(cli_run *r)
{
    (void)r;
    fprintf(r->err, "certflow: registry is not built yet\n");
    return CLI_EXIT_OTHER;
}
