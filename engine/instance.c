/* instance.c — being written */
