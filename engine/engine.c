/* engine.c — being written */
