#define _GNU_SOURCE
#include "CEpoll.h"
#include <errno.h>
#include <time.h>

int fixserve_epoll_wait_microseconds(int epfd, struct epoll_event *events, int maxevents, long microseconds) {
    static int lacks_pwait2;
    if (!__atomic_load_n(&lacks_pwait2, __ATOMIC_RELAXED)) {
        struct timespec timeout = { microseconds / 1000000, (microseconds % 1000000) * 1000 };
        int count = epoll_pwait2(epfd, events, maxevents, &timeout, NULL);
        if (count >= 0 || errno != ENOSYS) return count;
        __atomic_store_n(&lacks_pwait2, 1, __ATOMIC_RELAXED);
    }
    return epoll_wait(epfd, events, maxevents, (int)((microseconds + 999) / 1000));
}
