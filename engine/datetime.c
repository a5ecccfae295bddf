/* datetime.c — being written */
