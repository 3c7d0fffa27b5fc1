module github.com/elect-dev/elect/bindings-go

go 1.21
