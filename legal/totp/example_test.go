package totp_test

import (
	"fmt"
	"time"

	"kurir/legal/totp"
)

func ExampleKey_Verify() {
	key, _ := totp.ParseKey("gezd gnbv gy3t qojq gezd gnbv gy3t qojq")
	now := time.Unix(1111111111, 0)

	// The caller keeps last, per account, and passes it back each time.
	var last int64
	code := key.Code(now)
	last, ok := key.Verify(code, now, last)
	fmt.Println(code, ok)

	_, ok = key.Verify(code, now.Add(5*time.Second), last)
	fmt.Println("again:", ok)
	// Output:
	// 050471 true
	// again: false
}

func ExampleKey_URI() {
	key, _ := totp.ParseKey("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ")
	fmt.Println(key.URI("Kurir Legal", "officer@police.example"))
	// Output:
	// otpauth://totp/Kurir%20Legal:officer@police.example?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Kurir%20Legal&algorithm=SHA1&digits=6&period=30
}
