-- Argo CD health of a CodeStudioTemplate (studio.dev/v1alpha1), from its build and Ready.
local hs = {status = "Progressing", message = "Waiting for the operator to observe the template"}
local status = obj.status
if status == nil or status.observedGeneration == nil or status.observedGeneration < (obj.metadata.generation or 0) then
  return hs
end
local ready = nil
for _, c in ipairs(status.conditions or {}) do
  if c.type == "Ready" then ready = c end
end
local build = status.build or {}
if build.phase == "Pending" or build.phase == "Building" then
  hs.message = "Image build " .. string.lower(build.phase) .. ": " .. (build.job or "")
elseif build.phase == "Failed" then
  hs.status, hs.message = "Degraded", "Image build failed: " .. (build.message or "")
elseif ready ~= nil and ready.status == "True" then
  hs.status, hs.message = "Healthy", status.image or "Ready"
elseif ready ~= nil and ready.status == "False" then
  hs.status, hs.message = "Degraded", ready.message or ready.reason or "Not ready"
end
return hs
