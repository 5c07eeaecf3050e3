// Package client is the Go SDK of the kurir HTTP API (/api/v1): one typed
// method per operation, used by the CLI, the tests and the load generator.
//
// # Clients
//
// [New] returns a [Client] for a server's base URL. A Client is immutable
// and safe for concurrent use by any number of goroutines; it keeps a pool of
// keep-alive connections, so make one and share it. [Client.WithToken] derives
// a Client that authenticates as another session while sharing that pool,
// which is how a load generator drives thousands of accounts:
//
//	c := client.New("http://127.0.0.1:8080")
//	res, err := c.Login(ctx, client.LoginParams{Username: "alice", Password: pw})
//	alice := c.WithToken(res.Token)
//	msg, err := alice.Send(ctx, chatID, client.SendParams{Text: "hi"})
//
// Every method takes a context first; its cancellation or deadline ends the
// call, including any wait between retries.
//
// # Errors
//
// A response with a status outside 2xx becomes an [*Error] carrying the RFC
// 9457 problem the server sent: its stable Code (the codes of package kurir),
// Reason, Field, Detail, RetryAfter and RequestID. Test for a code with
// [IsCode]:
//
//	if client.IsCode(err, kurir.ENotFound) { ... }
//
// Failures that produced no response (a refused connection, a timeout, a
// cancelled context) are returned as net/http reports them, naming the
// method and URL; errors.Is(err, context.Canceled), errors.As(err,
// &netOpErr) and the like see through.
//
// # Retries
//
// Only [Client.Send] retries by itself, because only a send carries an
// idempotency key that makes a repeat harmless; see [Retry] for the policy.
// Every other method makes exactly one request and returns its outcome.
//
// # Sync and the live stream
//
// [Event], [Update] and [LargeChat] are the payloads of the sync endpoints
// ([Client.Updates], [Client.ChatUpdates], [Client.SyncState]); the live
// update stream delivers the same types, so a device applies an event the same
// way whichever path brought it.
package client
