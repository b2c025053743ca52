#!/bin/sh
# busybox udhcpc -s script for the lab's instances (busybox ships none; docs/dataplane.md, "dnsmasq per network"):
# applies the lease's address, mask, MTU and routes with `ip`, and prints one line
# "udhcpc.sh: <event> ip=... mask=... router=... mtu=... dns=a,b domain=... hostname=... server=... staticroutes=..."
# that tests read. Classless static routes (option 121) replace the router option (RFC 3442);
# a next hop 0.0.0.0 means on-link; busybox asks for them only when run with `-O staticroutes`.
# Nothing outside the interface is touched (no resolv.conf). Use:
#   busybox udhcpc -i eth0 -n -q -f -t 5 -T 1 -O staticroutes -s udhcpc.sh
dev="$interface"
event="$1"
case "$event" in
    deconfig)
        ip -4 addr flush dev "$dev"
        ip link set dev "$dev" up
        ;;
    bound|renew)
        [ -n "$mtu" ] && ip link set dev "$dev" mtu "$mtu"
        ip -4 addr flush dev "$dev"
        ip addr add "$ip/${mask:-$subnet}" ${broadcast:+broadcast "$broadcast"} dev "$dev"
        ip link set dev "$dev" up
        ip -4 route flush dev "$dev" proto static 2>/dev/null
        ip -4 route del default dev "$dev" 2>/dev/null
        if [ -n "$staticroutes" ]; then
            set -- $staticroutes
            while [ $# -ge 2 ]; do
                dest="$1"; [ "$dest" = "0.0.0.0/0" ] && dest=default
                if [ "$2" = "0.0.0.0" ]; then
                    ip route replace "$dest" dev "$dev" proto static
                else
                    ip route replace "$dest" via "$2" dev "$dev" proto static
                fi
                shift 2
            done
        elif [ -n "$router" ]; then
            set -- $router
            ip route replace default via "$1" dev "$dev" proto static
        fi
        echo "udhcpc.sh: $event ip=$ip mask=${mask:-$subnet} router=$router mtu=$mtu dns=$(echo $dns | tr ' ' ,) domain=$domain hostname=$hostname server=$serverid staticroutes=$staticroutes"
        ;;
    leasefail|nak)
        echo "udhcpc.sh: $event ${message:-}"
        ;;
esac
exit 0
