/* timer.c — being written */
