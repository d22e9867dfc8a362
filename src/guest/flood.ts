// umlperf-flood, the static helper the minimal image carries for the `flood` fault (busybox has
// no UDP client): UDP datagrams to one address of the lab's range as fast as it can, capped in
// rate and time. It refuses any address outside 198.18.0.0/15, whatever the caller asks.
// Built by binding.gyp (native/tools/flood.c) and shipped in the prebuilds, like the endpoint.
import { nativeArtifact } from '../artifacts.js';

export const FLOOD_GUEST_PATH = '/usr/bin/umlperf-flood';
/** Caps the helper enforces whatever its arguments say (native/tools/flood.c). */
export const FLOOD_MAX_SECONDS = 60;
export const FLOOD_MAX_MBPS = 10000;

/** Path of the built (or prebuilt) helper. */
export function floodBinary(): string {
  return nativeArtifact('umlperf-flood');
}
