package mockcreds_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/greenroom-dev/greenroom/mockservices"
	"github.com/greenroom-dev/greenroom/mockservices/mockcreds"
)

func ExampleUser() {
	alice := mockcreds.User("user:default/alice")
	fmt.Println(alice.Token())
	fmt.Println(alice.Credentials())
	fmt.Println(mockcreds.User().Header())
	// Output:
	// mock-user-token:{"sub":"user:default/alice"}
	// credentials{user user:default/alice}
	// Bearer mock-user-token
}

func ExampleCaller_Header() {
	req := httptest.NewRequest(http.MethodGet, "/api/todo/todos", nil)
	req.Header.Set("Authorization", mockcreds.User("user:default/alice").Header())
	fmt.Println(req.Header.Get("Authorization"))
	// Output: Bearer mock-user-token:{"sub":"user:default/alice"}
}

func ExampleCaller_WithOwnership() {
	alice := mockcreds.User("user:default/alice").WithOwnership("group:default/team-a")
	details, _ := mockservices.UserInfo().Get(context.Background(), alice.Credentials())
	fmt.Println(details.OwnershipEntityRefs)
	// Output: [group:default/team-a]
}

func ExampleLimitedUser() {
	req := httptest.NewRequest(http.MethodGet, "/api/todo/images/logo.png", nil)
	req.AddCookie(mockcreds.LimitedUser("user:default/alice").Cookie())
	c := mockcreds.LimitedUser("user:default/alice").Credentials()
	fmt.Println(c, c.Limited)
	// Output: credentials{user user:default/alice} true
}

func ExampleServiceCaller() {
	catalog := mockcreds.ServiceCaller(mockcreds.ServiceOptions{Subject: "plugin:catalog", TargetPluginID: "todo"})
	fmt.Println(catalog.Header())
	fmt.Println(mockcreds.ServiceCaller(mockcreds.ServiceOptions{}).Credentials())
	// Output:
	// Bearer mock-service-token:{"sub":"plugin:catalog","target":"todo"}
	// credentials{service external:test-service}
}

func ExampleNone() {
	fmt.Printf("%q %v\n", mockcreds.None().Header(), mockcreds.None().Credentials())
	// Output: "" credentials{none}
}
