package openapi_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	"kurir/openapi"
)

// Problem is the RFC 9457 error body, as the HTTP layer would define it.
type Problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail,omitempty"`
	Code   string `json:"code"`
}

// Message is a chat message as the API returns it.
type Message struct {
	ID     int64      `json:"id"`
	Text   string     `json:"text" jsonschema:"minLength=1,maxLength=4000"`
	Sent   time.Time  `json:"sent"`
	Edited *time.Time `json:"edited,omitempty"`
}

func newSpec() *openapi.Spec {
	spec := openapi.New(openapi.Info{Title: "kurir", Version: "1", Problem: Problem{}})
	spec.Add(openapi.Operation{
		Method: "GET", Path: "/api/v1/messages/{id}", ID: "getMessage", Auth: true,
		Params:    []openapi.Param{{Name: "id", In: "path", Schema: int64(0)}},
		Responses: map[int]openapi.Response{200: {Body: Message{}}},
	})
	return spec
}

func ExampleSpec_MarshalJSON() {
	doc, err := newSpec().MarshalJSON()
	if err != nil {
		fmt.Println(err)
		return
	}
	var d struct {
		Components struct{ Schemas map[string]json.RawMessage }
	}
	if err := json.Unmarshal(doc, &d); err != nil {
		fmt.Println(err)
		return
	}
	var out bytes.Buffer
	json.Indent(&out, d.Components.Schemas["Message"], "", "  ")
	fmt.Println(out.String())
	// Output:
	// {
	//   "additionalProperties": false,
	//   "properties": {
	//     "edited": {
	//       "format": "date-time",
	//       "type": "string"
	//     },
	//     "id": {
	//       "type": "integer"
	//     },
	//     "sent": {
	//       "format": "date-time",
	//       "type": "string"
	//     },
	//     "text": {
	//       "maxLength": 4000,
	//       "minLength": 1,
	//       "type": "string"
	//     }
	//   },
	//   "required": [
	//     "id",
	//     "text",
	//     "sent"
	//   ],
	//   "type": "object"
	// }
}

func ExampleSpec_ValidateResponse() {
	spec := newSpec()
	body := []byte(`{"id":7,"text":"","sent":"2025-01-02T03:04:05Z","read":true}`)
	fmt.Println(spec.ValidateResponse("GET", "/api/v1/messages/7", 200, "application/json", body))

	problem := []byte(`{"type":"about:blank","title":"Not Found","status":404,"code":"not_found"}`)
	fmt.Println(spec.ValidateResponse("GET", "/api/v1/messages/8", 404, "application/problem+json", problem))
	// Output:
	// openapi: GET /api/v1/messages/{id} (getMessage): response 200: at '': additional properties 'read' not allowed; at '/text': minLength: got 0, want 1
	// <nil>
}
