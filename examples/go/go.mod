module example.com/elect

go 1.19
