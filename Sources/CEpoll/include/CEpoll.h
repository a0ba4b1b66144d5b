#ifndef FIXSERVE_EPOLL_H
#define FIXSERVE_EPOLL_H
// Glibc's Swift module leaves out <sys/epoll.h> and <sys/eventfd.h>; the event loops need them.
#include <sys/epoll.h>
#include <sys/eventfd.h>

/// epoll_wait with a timeout in microseconds (epoll_pwait2); on kernels before 5.11, which
/// lack it, the timeout is rounded up to whole milliseconds.
int fixserve_epoll_wait_microseconds(int epfd, struct epoll_event *events, int maxevents, long microseconds);
#endif
