package client_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"kurir"
	"kurir/client"
)

func Example() {
	baseURL, stop := exampleServer() // a kurir server on 127.0.0.1 over a fresh SQLite file
	defer stop()
	ctx := context.Background()

	// One Client for the server; one derived Client per session.
	c := client.New(baseURL, client.WithUserAgent("example/1"))
	for _, name := range []string{"alice", "bruno"} {
		if _, err := c.Register(ctx, client.RegisterParams{Username: name, Password: "wet-otter-lantern-9"}); err != nil {
			fmt.Println(err)
			return
		}
	}
	res, err := c.Login(ctx, client.LoginParams{Username: "alice", Password: "wet-otter-lantern-9", DeviceName: "laptop"})
	if err != nil {
		fmt.Println(err)
		return
	}
	alice := c.WithToken(res.Token)

	bruno, err := alice.User(ctx, "bruno")
	if err != nil {
		fmt.Println(err)
		return
	}
	chat, err := alice.OpenPrivateChat(ctx, bruno.ID)
	if err != nil {
		fmt.Println(err)
		return
	}
	// Send retries by itself, with one idempotency key, so it never posts twice.
	if _, err := alice.Send(ctx, chat.ID, client.SendParams{Text: "Hello, Bruno!"}); err != nil {
		fmt.Println(err)
		return
	}
	msgs, err := alice.History(ctx, chat.ID, client.After(0), 10)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, m := range msgs {
		fmt.Printf("%d: %s\n", m.SenderID, m.Text)
	}

	// Errors carry the problem the server sent.
	_, err = alice.Chat(ctx, 4242)
	fmt.Println(client.IsCode(err, kurir.ENotFound))
	_, err = c.Register(ctx, client.RegisterParams{Username: "carol", Password: "password"})
	if e, ok := err.(*client.Error); ok {
		fmt.Println(e.Status, e.Code, e.Field, e.Reason)
	}
	// Output:
	// 1: Hello, Bruno!
	// true
	// 400 invalid password weak_password
}

func ExampleClient_AllDialogs() {
	baseURL, stop := exampleServer()
	defer stop()
	ctx := context.Background()

	c := client.New(baseURL)
	if _, err := c.Register(ctx, client.RegisterParams{Username: "alice", Password: "wet-otter-lantern-9"}); err != nil {
		fmt.Println(err)
		return
	}
	res, err := c.Login(ctx, client.LoginParams{Username: "alice", Password: "wet-otter-lantern-9"})
	if err != nil {
		fmt.Println(err)
		return
	}
	alice := c.WithToken(res.Token)
	for _, title := range []string{"Hikers", "Climbers", "Runners"} {
		if _, err := alice.CreateGroup(ctx, client.NewChat{Title: title}); err != nil {
			fmt.Println(err)
			return
		}
	}

	// Most recently active first, two a page: the iterator fetches the next
	// page as the loop reaches it.
	for d, err := range alice.AllDialogs(ctx, 2) {
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(d.Chat.Title)
	}
	// Output:
	// Runners
	// Climbers
	// Hikers
}

// exampleServer serves the API over a new SQLite database in a temporary
// directory until stop is called.
func exampleServer() (baseURL string, stop func()) {
	dir, err := os.MkdirTemp("", "kurir-client-example")
	if err != nil {
		panic(err)
	}
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := serveProcess("sqlite:"+filepath.Join(dir, "kurir.db"), inR, outW)
		outW.CloseWithError(err) // unblocks the read below if serving failed
		done <- err
	}()
	line, err := bufio.NewReader(outR).ReadString('\n')
	if err != nil {
		panic(err)
	}
	return strings.TrimSpace(line), func() {
		inW.Close()
		if err := <-done; err != nil {
			panic(err)
		}
		os.RemoveAll(dir)
	}
}
