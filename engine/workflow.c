/* workflow.c — being written */
