#ifndef FIXSERVE_EPOLL_H
#define FIXSERVE_EPOLL_H
// Glibc's Swift module leaves out <sys/epoll.h>; the event loops need it.
#include <sys/epoll.h>
#endif
