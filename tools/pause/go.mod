module packline.dev/tools/pause

go 1.26
