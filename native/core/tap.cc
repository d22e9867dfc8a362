#include "tap.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <exception>
#include <functional>
#include <thread>

#include "error.h"
#include "sock.h"

namespace umlperf {

namespace {

// setns(CLONE_NEWNET) changes the calling thread for good, so the work happens on a short-lived
// thread of its own that is joined before returning; its failure is rethrown here.
void inNetns(const std::string& netns, const std::function<void()>& fn) {
  if (netns.empty()) {
    fn();
    return;
  }
  std::exception_ptr failure;
  std::thread t([&] {
    try {
      nameThread("umlperf-netns");
      enterNetns(netns);
      fn();
    } catch (...) {
      failure = std::current_exception();
    }
  });
  t.join();
  if (failure) std::rethrow_exception(failure);
}

void checkName(const std::string& name) {
  if (name.empty() || name.size() >= IFNAMSIZ) throwCode("EINVAL", "bad interface name '" + name + "' (1-15 characters)");
}

void fillName(ifreq& ifr, const std::string& name) {
  checkName(name);
  memset(&ifr, 0, sizeof ifr);
  memcpy(ifr.ifr_name, name.c_str(), name.size());
}

Fd ctlSocket() {
  Fd s(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!s) throwErrno("socket", "cannot create control socket");
  return s;
}

int ifIndex(int s, const std::string& name, bool mustExist) {
  ifreq ifr;
  fillName(ifr, name);
  if (ioctl(s, SIOCGIFINDEX, &ifr) < 0) {
    if (!mustExist && errno == ENODEV) return 0;
    throwErrno("ioctl", "no link " + name);
  }
  return ifr.ifr_ifindex;
}

Fd openTun(const std::string& name) {
  Fd fd(open("/dev/net/tun", O_RDWR | O_CLOEXEC));
  if (!fd) throwErrno("open", "cannot open /dev/net/tun (is the tun module loaded?)");
  ifreq ifr;
  fillName(ifr, name);
  ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
  if (ioctl(fd.get(), TUNSETIFF, &ifr) < 0) throwErrno("ioctl", "cannot attach to TAP " + name);
  return fd;
}

}  // namespace

void tapCreate(const TapOptions& o) {
  checkName(o.name);
  inNetns(o.netns, [&] {
    Fd s = ctlSocket();
    if (ifIndex(s.get(), o.name, false) != 0) throwErrno("ioctl", "cannot create TAP " + o.name, EEXIST);
    Fd fd = openTun(o.name);
    if (o.owner >= 0 && ioctl(fd.get(), TUNSETOWNER, o.owner) < 0) throwErrno("ioctl", "cannot set owner of " + o.name);
    if (o.group >= 0 && ioctl(fd.get(), TUNSETGROUP, o.group) < 0) throwErrno("ioctl", "cannot set group of " + o.name);
    if (ioctl(fd.get(), TUNSETPERSIST, 1) < 0) throwErrno("ioctl", "cannot make TAP " + o.name + " persistent");
  });
}

bool tapDelete(const std::string& netns, const std::string& name) {
  checkName(name);
  bool existed = false;
  inNetns(netns, [&] {
    Fd s = ctlSocket();
    if (ifIndex(s.get(), name, false) == 0) return;
    existed = true;
    // Attaching and clearing persistence removes the device once this last fd closes.
    Fd fd = openTun(name);
    if (ioctl(fd.get(), TUNSETPERSIST, 0) < 0) throwErrno("ioctl", "cannot delete TAP " + name);
  });
  return existed;
}

void linkSetUp(const std::string& netns, const std::string& name, bool up) {
  inNetns(netns, [&] {
    Fd s = ctlSocket();
    ifreq ifr;
    fillName(ifr, name);
    if (ioctl(s.get(), SIOCGIFFLAGS, &ifr) < 0) throwErrno("ioctl", "cannot read flags of " + name);
    if (up) ifr.ifr_flags |= IFF_UP;
    else ifr.ifr_flags &= ~IFF_UP;
    if (ioctl(s.get(), SIOCSIFFLAGS, &ifr) < 0) throwErrno("ioctl", "cannot set " + name + (up ? " up" : " down"));
  });
}

void addressSet(const std::string& netns, const std::string& name, const std::string& ipv4, int prefix) {
  if (prefix < 0 || prefix > 32) throwCode("EINVAL", "bad prefix length " + std::to_string(prefix));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  if (inet_pton(AF_INET, ipv4.c_str(), &addr.sin_addr) != 1) throwCode("EINVAL", "not an IPv4 address: " + ipv4);
  sockaddr_in mask{};
  mask.sin_family = AF_INET;
  mask.sin_addr.s_addr = htonl(prefix == 0 ? 0 : ~uint32_t(0) << (32 - prefix));
  inNetns(netns, [&] {
    Fd s = ctlSocket();
    ifreq ifr;
    fillName(ifr, name);
    memcpy(&ifr.ifr_addr, &addr, sizeof addr);
    if (ioctl(s.get(), SIOCSIFADDR, &ifr) < 0) throwErrno("ioctl", "cannot set address of " + name);
    fillName(ifr, name);
    memcpy(&ifr.ifr_netmask, &mask, sizeof mask);
    if (ioctl(s.get(), SIOCSIFNETMASK, &ifr) < 0) throwErrno("ioctl", "cannot set netmask of " + name);
  });
}

void bridgeAttach(const std::string& netns, const std::string& name, const std::string& bridge) {
  inNetns(netns, [&] {
    Fd s = ctlSocket();
    int index = ifIndex(s.get(), name, true);
    ifreq ifr;
    fillName(ifr, bridge);
    ifr.ifr_ifindex = index;
    if (ioctl(s.get(), SIOCBRADDIF, &ifr) < 0) throwErrno("ioctl", "cannot attach " + name + " to bridge " + bridge);
  });
}

bool linkExists(const std::string& netns, const std::string& name) {
  bool exists = false;
  inNetns(netns, [&] {
    Fd s = ctlSocket();
    exists = ifIndex(s.get(), name, false) != 0;
  });
  return exists;
}

}  // namespace umlperf
