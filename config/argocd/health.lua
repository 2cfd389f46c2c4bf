-- Argo CD health of a Tenant or a RegionCell (one script for both: they report the same kstatus
-- conditions). Healthy: Ready. Suspended: a tenant's spec.suspended. Degraded: Stalled (the
-- message says what to fix). Progressing: anything else, including a status the operator has
-- not updated for the latest spec yet.
local hs = {}
local st = obj.status
if st == nil or st.conditions == nil then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator"
  return hs
end
if st.observedGeneration == nil or obj.metadata.generation == nil or st.observedGeneration < obj.metadata.generation then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to observe the latest spec"
  return hs
end
local cond = {}
for _, c in ipairs(st.conditions) do
  cond[c.type] = c
end
if cond["Stalled"] ~= nil and cond["Stalled"].status == "True" then
  hs.status = "Degraded"
  hs.message = cond["Stalled"].message
  return hs
end
if st.phase == "Suspended" then
  hs.status = "Suspended"
  hs.message = "Suspended by spec.suspended"
  return hs
end
if cond["Ready"] ~= nil and cond["Ready"].status == "True" then
  hs.status = "Healthy"
  hs.message = cond["Ready"].message
  return hs
end
hs.status = "Progressing"
if cond["Ready"] ~= nil then
  hs.message = cond["Ready"].message
else
  hs.message = "Waiting for the operator"
end
return hs
