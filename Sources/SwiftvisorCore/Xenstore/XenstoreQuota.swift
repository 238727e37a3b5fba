/// The limits xenstored enforces on an unprivileged domain by default (Xen 4.17
/// tools/xenstore/xenstored_core.c: quota_nb_entry_per_domain and friends). The hypervisor
/// (the privileged domain 0 here) is not limited.
public struct XenstoreQuota: Equatable {
    /// Nodes a domain may own ("-E", quota_nb_entry_per_domain): creating past it is ENOSPC.
    public var nodesPerDomain = 1000
    /// A node's stored size must stay below this ("-S", quota_max_entry_size, 2 KiB): ENOSPC.
    public var maxEntrySize = 2048
    /// Watches per domain ("-W", quota_nb_watch_per_domain): E2BIG beyond it.
    public var watchesPerDomain = 128
    /// Open transactions per domain ("-t", quota_max_transaction): ENOSPC beyond it.
    public var transactionsPerDomain = 10
    /// Permission entries per node ("-A", quota_nb_perms_per_node): ENOSPC beyond it.
    public var permissionsPerNode = 5
    /// Nodes one transaction may touch (quota_trans_nodes): ENOSPC, and the transaction fails.
    public var nodesPerTransaction = 1024
    /// Path length beyond "/local/domain/N/" (quota_max_path_len, XENSTORE_REL_PATH_MAX): EINVAL.
    public var maxPathLength = XenstoreWire.relativePathMax
    /// Replies queued for a domain before it must read some ("-Q outstanding", quota_req_outstanding):
    /// further requests wait in the ring.
    public var outstandingRequests = 20
    /// Bytes of replies and events queued for a domain (xenstored's hard memory quota, 2.5 MiB,
    /// which also counts nodes and watches): watch events beyond it are dropped.
    public var queuedBytesPerDomain = 2 * 1024 * 1024 + 512 * 1024

    public init() {}
}
