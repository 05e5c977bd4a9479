-- Argo CD health of a Workspace (studio.dev/v1alpha1), from status.phase and Ready.
local hs = {status = "Progressing", message = "Waiting for the operator to observe the workspace"}
local status = obj.status
if status == nil or status.observedGeneration == nil or status.observedGeneration < (obj.metadata.generation or 0) then
  return hs
end
local ready = nil
for _, c in ipairs(status.conditions or {}) do
  if c.type == "Ready" then ready = c end
end
local phase = status.phase
if phase == "Active" and ready ~= nil and ready.status == "True" then
  hs.status, hs.message = "Healthy", "Active"
elseif phase == "Stopped" then
  hs.status, hs.message = "Suspended", "Stopped: every studio in the workspace is stopped"
elseif phase == "Failed" or (phase == "Active" and ready ~= nil and ready.status == "False") then
  hs.status, hs.message = "Degraded", (ready and ready.message) or phase
else
  hs.message = (phase or "Unknown") .. ((ready and ready.message and (": " .. ready.message)) or "")
end
return hs
