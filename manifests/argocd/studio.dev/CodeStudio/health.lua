-- Argo CD health of a CodeStudio (studio.dev/v1alpha1), from status.state and Ready.
local hs = {status = "Progressing", message = "Waiting for the operator to observe the studio"}
local status = obj.status
if status == nil or status.observedGeneration == nil or status.observedGeneration < (obj.metadata.generation or 0) then
  return hs
end
local ready = nil
for _, c in ipairs(status.conditions or {}) do
  if c.type == "Ready" then ready = c end
end
local state = status.state
if state == "Running" and ready ~= nil and ready.status == "True" then
  hs.status, hs.message = "Healthy", "Running"
elseif state == "Stopped" then
  hs.status, hs.message = "Suspended", status.message or "Stopped"
elseif state == "Failed" then
  hs.status, hs.message = "Degraded", status.message or "Failed"
else
  hs.message = (state or "Unknown") .. ": " .. (status.message or "")
end
return hs
