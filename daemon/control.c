/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <gio/gio.h>
#include <glib-unix.h>

#include "control.h"
#include "log.h"
#include "protocol.h"

#define CONTROL_MAX_CLIENTS 64
#define CONTROL_IDLE_TIMEOUT_S 30
#define CONTROL_MAX_OUTPUT (4 * 1024 * 1024)
#define CONTROL_READ_CHUNK 4096

typedef struct {
	ControlServer *server; /* borrowed; NULL once the server is gone */
	int fd;
	guint ref;
	gboolean closed;
	FrameReader reader;
	GString *output;        /* bytes not yet written */
	guint read_watch;
	guint write_watch;
	guint idle_timer;
	gboolean busy;          /* a request is being answered */
	gboolean close_after_output;
} Client;

struct ControlRequest {
	Client *client; /* referenced */
};

struct ControlServer {
	int listen_fd;
	guint accept_watch;
	ControlHandler handler;
	gpointer user_data;
	GPtrArray *clients; /* Client*, each holding one reference for the list */
};

static void client_close(Client *client);
static void client_flush(Client *client);
static void client_process(Client *client);

static Client *client_ref(Client *client)
{
	client->ref++;
	return client;
}

static void client_unref(Client *client)
{
	if (--client->ref > 0)
		return;
	frame_reader_clear(&client->reader);
	g_string_free(client->output, TRUE);
	g_free(client);
}

static gboolean on_idle_timeout(gpointer user_data)
{
	Client *client = user_data;
	client->idle_timer = 0;
	log_debug("control: client idle for %ds, closing", CONTROL_IDLE_TIMEOUT_S);
	client_close(client);
	return G_SOURCE_REMOVE;
}

static void arm_idle_timer(Client *client)
{
	g_clear_handle_id(&client->idle_timer, g_source_remove);
	if (!client->busy && !client->closed)
		client->idle_timer = g_timeout_add_seconds(CONTROL_IDLE_TIMEOUT_S, on_idle_timeout, client);
}

static void client_close(Client *client)
{
	if (client->closed)
		return;
	client->closed = TRUE;
	g_clear_handle_id(&client->read_watch, g_source_remove);
	g_clear_handle_id(&client->write_watch, g_source_remove);
	g_clear_handle_id(&client->idle_timer, g_source_remove);
	close(client->fd);
	client->fd = -1;
	if (client->server && g_ptr_array_remove(client->server->clients, client))
		client_unref(client); /* the list's reference */
}

static void client_send(Client *client, JsonObject *message)
{
	gsize len;
	g_autofree char *data = protocol_encode(message, &len);

	json_object_unref(message);
	if (client->closed)
		return;
	if (client->output->len + len > CONTROL_MAX_OUTPUT) {
		log_warning("control: client does not read its responses, closing");
		client_close(client);
		return;
	}
	g_string_append_len(client->output, data, len);
	client_flush(client);
}

static gboolean on_writable(int fd, GIOCondition condition, gpointer user_data)
{
	Client *client = user_data;
	client->write_watch = 0;
	client_flush(client);
	return G_SOURCE_REMOVE;
}

static void client_flush(Client *client)
{
	while (!client->closed && client->output->len > 0) {
		ssize_t n = send(client->fd, client->output->str, client->output->len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				if (!client->write_watch)
					client->write_watch = g_unix_fd_add(client->fd, G_IO_OUT, on_writable, client);
				return;
			}
			log_debug("control: write failed: %s", g_strerror(errno));
			client_close(client);
			return;
		}
		g_string_erase(client->output, 0, n);
	}
	if (!client->closed && client->close_after_output && client->output->len == 0)
		client_close(client);
}

void control_request_progress(ControlRequest *request, JsonObject *progress)
{
	client_send(request->client, protocol_progress_new(progress));
}

void control_request_reply(ControlRequest *request, JsonObject *response)
{
	Client *client = request->client;

	client_send(client, response);
	client->busy = FALSE;
	g_free(request);
	if (!client->closed) {
		arm_idle_timer(client);
		/* Requests that arrived meanwhile are waiting in the reader. */
		client_process(client);
	}
	client_unref(client);
}

static void refuse(Client *client, gboolean fatal, const char *code, const char *message)
{
	client_send(client, protocol_error_new(code, "%s", message));
	if (fatal) {
		client->close_after_output = TRUE;
		client_flush(client);
	}
}

static void dispatch(Client *client, const char *message)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonObject) request = protocol_decode(message, &error);

	if (!request) {
		refuse(client, FALSE, PROTOCOL_E_BAD_REQUEST, error->message);
		return;
	}
	if (json_get_int(request, "version", -1) != PROTOCOL_VERSION) {
		g_autofree char *text = g_strdup_printf("this tiesd speaks protocol version %d", PROTOCOL_VERSION);
		refuse(client, FALSE, PROTOCOL_E_VERSION, text);
		return;
	}
	const char *command = json_get_string(request, "command");
	if (!command) {
		refuse(client, FALSE, PROTOCOL_E_BAD_REQUEST, "the request has no \"command\" string");
		return;
	}
	JsonNode *args_node = json_object_get_member(request, "args");
	if (args_node && !JSON_NODE_HOLDS_OBJECT(args_node) && !JSON_NODE_HOLDS_NULL(args_node)) {
		refuse(client, FALSE, PROTOCOL_E_BAD_REQUEST, "\"args\" must be an object");
		return;
	}
	g_autoptr(JsonObject) empty = json_object_new();
	JsonObject *args = json_get_object(request, "args");

	ControlRequest *req = g_new0(ControlRequest, 1);
	req->client = client_ref(client);
	client->busy = TRUE;
	g_clear_handle_id(&client->idle_timer, g_source_remove);
	client->server->handler(req, command, args ? args : empty, client->server->user_data);
}

/* Answers the requests buffered so far, one at a time. */
static void client_process(Client *client)
{
	while (!client->closed && !client->busy && client->server) {
		g_autoptr(GError) error = NULL;
		g_autofree char *message = frame_reader_next(&client->reader, &error);

		if (error) {
			refuse(client, TRUE, PROTOCOL_E_TOO_LARGE, error->message);
			return;
		}
		if (!message)
			return;
		dispatch(client, message);
	}
}

static gboolean on_readable(int fd, GIOCondition condition, gpointer user_data)
{
	Client *client = client_ref(user_data);
	char buffer[CONTROL_READ_CHUNK];
	ssize_t n = recv(fd, buffer, sizeof buffer, MSG_DONTWAIT);

	if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
		/* spurious wake-up */
	} else if (n <= 0) {
		client_close(client);
	} else {
		frame_reader_feed(&client->reader, buffer, n);
		/* A client may queue requests behind a slow one, but not without
		 * bound. */
		if (client->reader.pending->len > 2 * PROTOCOL_MAX_REQUEST)
			refuse(client, TRUE, PROTOCOL_E_TOO_LARGE, "requests sent faster than they are answered");
		else {
			arm_idle_timer(client);
			client_process(client);
		}
	}

	gboolean keep = !client->closed && !client->close_after_output;
	if (!keep)
		client->read_watch = 0;
	client_unref(client);
	return keep ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
}

static gboolean peer_is_us(int fd, uid_t *out_uid)
{
	struct ucred cred;
	socklen_t len = sizeof cred;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
		return FALSE;
	*out_uid = cred.uid;
	return cred.uid == getuid();
}

static gboolean on_accept(int listen_fd, GIOCondition condition, gpointer user_data)
{
	ControlServer *server = user_data;
	int fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

	if (fd < 0) {
		if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
			log_warning("control: accept failed: %s", g_strerror(errno));
		return G_SOURCE_CONTINUE;
	}

	Client *client = g_new0(Client, 1);
	client->server = server;
	client->fd = fd;
	client->ref = 1; /* the list's */
	client->output = g_string_new(NULL);
	frame_reader_init(&client->reader, PROTOCOL_MAX_REQUEST);
	g_ptr_array_add(server->clients, client);

	uid_t uid = (uid_t)-1;
	if (!peer_is_us(fd, &uid)) {
		g_autofree char *message = g_strdup_printf("peer uid %d is not the daemon's uid %d", (int)uid, (int)getuid());
		log_warning("control: refused a connection: %s", message);
		refuse(client, TRUE, PROTOCOL_E_PERMISSION, message);
		return G_SOURCE_CONTINUE;
	}
	if (server->clients->len > CONTROL_MAX_CLIENTS) {
		refuse(client, TRUE, PROTOCOL_E_FAILED, "too many connections");
		return G_SOURCE_CONTINUE;
	}
	client->read_watch = g_unix_fd_add(fd, G_IO_IN | G_IO_HUP | G_IO_ERR, on_readable, client);
	arm_idle_timer(client);
	return G_SOURCE_CONTINUE;
}

ControlServer *control_server_new(int listen_fd, ControlHandler handler, gpointer user_data)
{
	ControlServer *server = g_new0(ControlServer, 1);

	server->listen_fd = listen_fd;
	server->handler = handler;
	server->user_data = user_data;
	server->clients = g_ptr_array_new();
	g_unix_set_fd_nonblocking(listen_fd, TRUE, NULL);
	server->accept_watch = g_unix_fd_add(listen_fd, G_IO_IN, on_accept, server);
	return server;
}

void control_server_free(ControlServer *server)
{
	if (!server)
		return;
	g_clear_handle_id(&server->accept_watch, g_source_remove);
	for (guint i = 0; i < server->clients->len; i++) {
		Client *client = g_ptr_array_index(server->clients, i);
		client->server = NULL;
		client_close(client);
		client_unref(client); /* the list's reference */
	}
	g_ptr_array_unref(server->clients);
	close(server->listen_fd);
	g_free(server);
}

int control_bind(const char *path, GError **error)
{
	g_autofree char *dir = g_path_get_dirname(path);
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int errsv;

	if (strlen(path) >= sizeof addr.sun_path) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_FILENAME_TOO_LONG, "socket path too long: %s", path);
		return -ENAMETOOLONG;
	}
	if (g_mkdir_with_parents(dir, 0700) < 0 || chmod(dir, 0700) < 0) {
		errsv = errno;
		g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errsv), "cannot create %s: %s", dir, g_strerror(errsv));
		return -errsv;
	}
	memcpy(addr.sun_path, path, strlen(path) + 1);

	/* A socket file left by a crash is stale only if nobody answers on it. */
	int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (probe >= 0) {
		gboolean answered = connect(probe, (struct sockaddr *)&addr, sizeof addr) == 0 || errno == EAGAIN;
		close(probe);
		if (answered) {
			g_set_error(error, G_IO_ERROR, G_IO_ERROR_ADDRESS_IN_USE, "another tiesd is listening on %s", path);
			return -EADDRINUSE;
		}
	}
	unlink(path);

	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		errsv = errno;
		g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errsv), "socket: %s", g_strerror(errsv));
		return -errsv;
	}
	mode_t old_mask = umask(0177);
	int rc = bind(fd, (struct sockaddr *)&addr, sizeof addr);
	errsv = errno;
	umask(old_mask);
	if (rc < 0 || listen(fd, SOMAXCONN) < 0) {
		if (rc == 0)
			errsv = errno;
		close(fd);
		g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errsv), "cannot listen on %s: %s", path, g_strerror(errsv));
		return -errsv;
	}
	return fd;
}
