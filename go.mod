module github.com/greenroom-dev/greenroom

go 1.24
