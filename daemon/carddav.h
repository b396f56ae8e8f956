/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

#include "http.h"

/* A CardDAV client (RFC 6352) on the daemon's HTTP engine: discovery
 * (RFC 6764), and per address book an incremental sync (RFC 6578
 * sync-collection) with a fallback to a listing of ETags plus
 * addressbook-multiget in small batches.
 *
 * Discovery, from ACCOUNT->url: the URL itself when it is an address book
 * (read whatever ADDRESSBOOKS says); else its current-user-principal, or
 * that of /.well-known/carddav (redirects followed); the principal's
 * addressbook-home-set (the first one); the address books listed by a
 * Depth 1 PROPFIND on that home. A first sync asks the principal with
 * Depth 1: where it is its own home (Radicale), that is the listing. When none of that answers, a collection at
 * the URL is listed as a home. When STATE holds tokens of books that share
 * a parent on the account's server, that parent is listed first as the
 * home, and the discovery above runs only if the listing shows none of
 * them (or misses a book named in ADDRESSBOOKS).
 *
 * Per address book, requests are chosen by what servers answer fast (see
 * ../shared/MEASURED.md): no Depth 1 PROPFIND over an address book, never a
 * big multiget. A first sync (STATE empty) fetches every card with one
 * addressbook-query and reads no sync-token (Radicale reads a whole book to
 * compute one): the books come back with TOKEN_PENDING. A sync without a
 * book's token but with ETags reads the token first (from the home listing;
 * with ADDRESSBOOKS set, or straight at a book known, by a Depth 0 PROPFIND
 * on the book), then lists the ETags and fetches what changed. With a
 * stored token: nothing more when the listed sync-token equals it, else one
 * sync-collection, plus an addressbook-multiget for the cards it names
 * without data (Xandikos), or one addressbook-query with the data when more
 * than a handful are. A refused token (Radicale 403 valid-sync-token,
 * Xandikos 500) falls back to the full path. Responses stream through
 * libxml2's push parser, and each card goes to CARD as soon as its
 * <response> is read; requests run one at a time.
 *
 * Requests per sync, from the server root, one book, with Radicale and
 * Xandikos: first 4 (with ADDRESSBOOKS too); the one after it, which reads
 * the token, 2; no change 1 (2); changes 2 (Xandikos 3); refused token
 * 4-5. */
typedef struct CarddavSync CarddavSync;

typedef struct {
	const char *url;        /* the server, a principal or an address book */
	const char *username;   /* may be NULL */
	const char *password;   /* may be NULL; never logged */
	const char *const *addressbooks; /* names (displayname or last path segment) to read; NULL = all */
	guint timeout_s;        /* each request; 0 = the engine's */
} CarddavAccount;

typedef struct {
	char *url;         /* the address book collection, absolute */
	char *name;        /* its displayname, else its last path segment */
	char *sync_token;  /* to store for the next sync; NULL when the server has none or
	                    * when TOKEN_PENDING */
	/* TRUE: the book was read without its sync-token, which costs some
	 * servers (Radicale) a read of the whole book. The next sync, with the
	 * ETags known, reads the token and then lists the ETags, so that what
	 * changed in between is not lost; run it soon. */
	gboolean token_pending;
	gboolean complete; /* TRUE: the cards handed over plus UNCHANGED are the whole book,
	                    * anything else is gone; FALSE: the cards and REMOVED are changes
	                    * since the token */
	guint cards;          /* how many cards were handed over */
	GPtrArray *unchanged; /* char* hrefs known (per STATE) and still there, when complete */
	GPtrArray *removed;   /* char* hrefs, when not complete */
} CarddavBook;

/* A new or changed card of an address book. */
typedef struct {
	const char *href;  /* path of the card as the server names it */
	const char *etag;  /* NULL when the server sent none */
	const char *data;  /* the vCard text */
} CarddavCard;

/* Receives each card as soon as its <response> has been read, while the
 * rest of the answer still streams in, so that nobody holds a whole
 * address book; BOOK and CARD are borrowed for the call. Cards come only
 * from 207 answers, and count only when DONE then reports success. Runs
 * inside the HTTP engine: it must not call carddav_sync_cancel() or free
 * the engine. */
typedef void (*CarddavCardFunc)(const CarddavBook *book, const CarddavCard *card, gpointer user_data);

typedef struct {
	GPtrArray *books; /* CarddavBook*, in the server's order; empty when ERROR is set
	                   * (one failing book fails the sync: nothing half-read is applied) */
	char *error;      /* NULL on success; else what went wrong, for people (never the password);
	                   * a name in ADDRESSBOOKS that matches no address book is an error */
	long status;      /* HTTP status of the failing request, 0 when none */
	guint requests;   /* how many HTTP requests the sync made */
} CarddavResult;

/* What the previous sync left: sync tokens per address book URL and the
 * ETag of every card known per href, both borrowed for the call. */
typedef struct {
	GHashTable *tokens; /* char* book url -> char* token; may be NULL */
	GHashTable *etags;  /* char* href -> char* etag; may be NULL */
	/* FALSE: when TOKENS names a single book, go straight to it with one
	 * sync-collection (new books are then not seen: ask for a listing from
	 * time to time). TRUE: list the books. */
	gboolean list_books;
} CarddavState;

/* RESULT is the callee's to free with carddav_result_free(). */
typedef void (*CarddavDoneFunc)(CarddavResult *result, gpointer user_data);

/* Starts a sync; CARD runs for every card read, DONE once at the end from
 * the main loop (never from inside this call; from inside
 * http_engine_free() with error "cancelled" when the engine goes first).
 * ACCOUNT and STATE are copied. A user:password in ACCOUNT->url is used
 * when USERNAME/PASSWORD are NULL, and never shown. SYNC is freed right
 * after DONE returns. */
CarddavSync *carddav_sync_start(HttpEngine *engine, const CarddavAccount *account, const CarddavState *state,
				CarddavCardFunc card, CarddavDoneFunc done, gpointer user_data);
/* Stops a sync; its DONE does not run. Not after DONE has run (the sync is
 * gone then); from inside DONE it does nothing. */
void carddav_sync_cancel(CarddavSync *sync);
void carddav_result_free(CarddavResult *result);
