/* A learner's 3g in C whose child has no exit() after its work: it falls back into the accept loop, so
 * every connection leaves one more process accepting. Built with gcc -static. */
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
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
        perror("bind");
        return 1;
    }
    struct sigaction action = {.sa_handler = reap, .sa_flags = SA_RESTART};
    sigemptyset(&action.sa_mask);
    sigaction(SIGCHLD, &action, NULL);
    printf("Serving HTTP on port 8888 ...\n");
    fflush(stdout);
    for (;;) {
        int conn = accept(listener, NULL, NULL);
        if (conn < 0) {
            if (errno == EINTR)
                continue;
            perror("accept");
            return 1;
        }
        if (fork() == 0) {
            char request[1024];
            if (recv(conn, request, sizeof request, 0) > 0)
                send(conn, RESPONSE, sizeof RESPONSE - 1, 0);
            close(conn);
            continue; /* the learner forgot _exit(0): back to accept() */
        }
        close(conn);
    }
}
