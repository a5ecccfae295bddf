/* simulate.c — certflow simulate (being written for issue 3). */
#include "cli.h"

int cli_cmd_simulate(cli_run *r)
{
    (void)r;
    fprintf(r->err, "certflow: simulate is not built yet\n");
    return CLI_EXIT_OTHER;
}
