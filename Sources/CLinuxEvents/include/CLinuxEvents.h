// Linux event-notification declarations (epoll, eventfd) for SetaHTTP; Swift's Glibc module leaves them out.
#ifndef C_LINUX_EVENTS_H
#define C_LINUX_EVENTS_H

#include <sys/epoll.h>
#include <sys/eventfd.h>

// The flag and operation values as plain ints: some are enum members or unsigned macros in the headers,
// which Swift imports with types that do not mix with Int32/UInt32 arithmetic.
static const unsigned int c_epoll_in = EPOLLIN;
static const unsigned int c_epoll_out = EPOLLOUT;
static const unsigned int c_epoll_err = EPOLLERR;
static const unsigned int c_epoll_hup = EPOLLHUP;
static const unsigned int c_epoll_rdhup = EPOLLRDHUP;
static const int c_epoll_cloexec = EPOLL_CLOEXEC;
static const int c_epoll_ctl_add = EPOLL_CTL_ADD;
static const int c_epoll_ctl_del = EPOLL_CTL_DEL;
static const int c_epoll_ctl_mod = EPOLL_CTL_MOD;

#endif
