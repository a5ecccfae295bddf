/* report.c — certflow report (being written for issue 3). */
#include "cli.h"

int cli_cmd_report(cli_run *r)
{
    (void)r;
    fprintf(r->err, "certflow: report is not built yet\n");
    return CLI_EXIT_OTHER;
}
