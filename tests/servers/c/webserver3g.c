/* The text's webserver3g.py in C: fork per connection, the parent closes its copy right after fork(),
 * and the SIGCHLD handler reaps every finished child with waitpid(-1, WNOHANG) in a loop; accept() is
 * retried after EINTR. Built with gcc -static so it runs in any image. */
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static const char RESPONSE[] = "HTTP/1.1 200 OK\r\n\r\nHello, World!\n";

static void reap(int signum) {
    (void)signum;
    int saved = errno;
    while (waitpid(-1, NULL, WNOHANG) > 0)
        ;
    errno = saved;
}

int main(void) {
    int listener = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons(8888), .sin_addr.s_addr = INADDR_ANY};
    if (bind(listener, (struct sockaddr *)&address, sizeof address) < 0 || listen(listener, 1024) < 0) {
        fprintf(stderr, "bind/listen: [Errno %d] %s\n", errno, strerror(errno));
        return 1;
    }
    struct sigaction action = {.sa_handler = reap}; /* no SA_RESTART: accept() sees EINTR, as in Python 2 */
    sigemptyset(&action.sa_mask);
    sigaction(SIGCHLD, &action, NULL);
    printf("Serving HTTP on port 8888 ...\n");
    fflush(stdout);
    for (;;) {
        int conn = accept(listener, NULL, NULL);
        if (conn < 0) {
            if (errno == EINTR)
                continue;
            fprintf(stderr, "accept: [Errno %d] %s\n", errno, strerror(errno));
            return 1;
        }
        pid_t pid = fork();
        if (pid == 0) {
            char request[1024];
            close(listener);
            if (recv(conn, request, sizeof request, 0) > 0)
                send(conn, RESPONSE, sizeof RESPONSE - 1, 0);
            close(conn);
            _exit(0);
        }
        close(conn); /* the parent's copy: the child's close() is then the last one and sends the FIN */
    }
}
