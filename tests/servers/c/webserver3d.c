/* The text's webserver3d.py in C, as a reader porting it would write it: fork per connection, and the
 * parent keeps every client socket (the lesson), so descriptors leak and curl never sees a FIN; no
 * child is ever waited for. Built with gcc -static so it runs in any image. */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static const char RESPONSE[] = "HTTP/1.1 200 OK\r\n\r\nHello, World!\n";

int main(void) {
    int listener = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons(8888), .sin_addr.s_addr = INADDR_ANY};
    if (bind(listener, (struct sockaddr *)&address, sizeof address) < 0 || listen(listener, 5) < 0) {
        fprintf(stderr, "bind/listen: [Errno %d] %s\n", errno, strerror(errno));
        return 1;
    }
    printf("Serving HTTP on port 8888 ...\n");
    fflush(stdout);
    long clients = 0;
    for (;;) {
        int conn = accept(listener, NULL, NULL);
        if (conn < 0) {
            fprintf(stderr, "accept: [Errno %d] %s\n", errno, strerror(errno));
            return 1;
        }
        clients++; /* the parent's copy stays open: 3d's clients.append(client_connection) */
        pid_t pid = fork();
        if (pid < 0) {
            fprintf(stderr, "fork: [Errno %d] %s\n", errno, strerror(errno));
            return 1;
        }
        if (pid == 0) {
            char request[1024];
            close(listener);
            if (recv(conn, request, sizeof request, 0) > 0)
                send(conn, RESPONSE, sizeof RESPONSE - 1, 0);
            close(conn);
            _exit(0);
        }
        printf("%ld\n", clients);
        fflush(stdout);
    }
}
