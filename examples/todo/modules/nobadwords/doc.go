// Package nobadwords is an example module of the todo plugin: it refuses
// todo titles that contain a word from a list, through the plugin's
// extension point todo.ValidatorsExtensionPoint.
//
// Add it next to the plugin:
//
//	b.Add(todo.Plugin, nobadwords.Module)
//
// Words are matched whole and case-insensitively: with "darn" in the list,
// "Darn it" is refused and "darning socks" is not. The list comes from the
// config key todo.nobadwords.words, and is [DefaultWords] without it:
//
//	todo:
//	  nobadwords:
//	    words: [darn, heck]
//
// A refused title is answered 400, with an InputError naming the validator
// ("no-bad-words") and the word:
//
//	{"error":{"name":"InputError","message":"Invalid request body: title rejected by validator \"no-bad-words\": the word \"darn\" is not allowed in titles", ...}}
package nobadwords
