/* policy.c — certflow policy diff | apply | test (being written for issue 3). */
#include "cli.h"

int cli_cmd_policy(cli_run *r)
{
    (void)r;
    fprintf(r->err, "certflow: policy commands are not built yet\n");
    return CLI_EXIT_OTHER;
}
