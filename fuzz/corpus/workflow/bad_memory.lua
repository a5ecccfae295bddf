-- doubles a string until it is far beyond the loading memory cap
local s = "x"
for i = 1, 40 do
  s = s .. s
end
return { name = s }
