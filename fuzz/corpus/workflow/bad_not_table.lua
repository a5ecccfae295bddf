-- returns a name rather than a workflow table
return "application"
