// Flat C-style shim over Arm NN (20.08 API) for the JavaCPP binding dev.hedge.profiles.armnn.ArmNnLib.
//
// A network is built layer by layer: every tensor is an int id (the output slot of the layer that makes it),
// the caller states each layer's output TensorInfo (Hedge has already inferred shapes and quantization),
// weights are staged with hn_stage before the layer that takes them. Arm NN copies constant data while
// building, so nothing the caller passes has to outlive the call. No exception crosses into Java: every
// function catches, stores the message in the network (or the thread's last error) and returns -1 / null.
#pragma once

#include <armnn/ArmNN.hpp>
#include <armnn/BackendRegistry.hpp>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

// Where Debian puts the dynamic backends (CpuRef, CpuAcc, GpuAcc); HEDGE_ARMNN_BACKENDS overrides it at run
// time. Arm NN drops the whole list when one directory in it is missing, so name only this machine's.
#ifndef HEDGE_ARMNN_DEFAULT_BACKEND_PATH
#if defined(__aarch64__)
#define HEDGE_ARMNN_DEFAULT_BACKEND_PATH "/usr/lib/aarch64-linux-gnu/armnn22"
#elif defined(__arm__)
#define HEDGE_ARMNN_DEFAULT_BACKEND_PATH "/usr/lib/arm-linux-gnueabihf/armnn22"
#else
#define HEDGE_ARMNN_DEFAULT_BACKEND_PATH "/usr/lib/x86_64-linux-gnu/armnn22"
#endif
#endif

namespace hedge_armnn {

struct Staged {
    bool set = false;
    armnn::TensorInfo info;
    std::vector<uint8_t> data;
};

struct Net {
    armnn::INetworkPtr net{nullptr, &armnn::INetwork::Destroy};
    std::vector<armnn::IOutputSlot*> slots;
    std::vector<armnn::TensorInfo> infos;
    std::vector<armnn::TensorInfo> inputInfos;
    std::vector<armnn::TensorInfo> outputInfos;
    std::vector<void*> inputData;
    std::vector<void*> outputData;
    armnn::TensorInfo nextOut;
    Staged staged[2];
    armnn::NetworkId id = 0;
    bool loaded = false;
    std::string backends;
    std::string error;
};

inline std::string& lastError() {
    static thread_local std::string e;
    return e;
}

inline armnn::IRuntime* runtime() {
    static std::once_flag once;
    static armnn::IRuntimePtr rt{nullptr, &armnn::IRuntime::Destroy};
    std::call_once(once, [] {
        armnn::IRuntime::CreationOptions o;
        const char* dir = std::getenv("HEDGE_ARMNN_BACKENDS");
        o.m_DynamicBackendsPath = dir != nullptr ? dir : HEDGE_ARMNN_DEFAULT_BACKEND_PATH;
        rt = armnn::IRuntime::Create(o);
    });
    return rt.get();
}

inline armnn::TensorInfo makeInfo(int dtype, int rank, const int* dims, const float* scales, int nscales, int zp,
                                  int qdim) {
    std::vector<unsigned int> d(dims, dims + rank);
    armnn::TensorShape shape(static_cast<unsigned int>(rank), d.data());
    auto t = static_cast<armnn::DataType>(dtype);
    if (nscales > 1) {
        return armnn::TensorInfo(shape, t, std::vector<float>(scales, scales + nscales),
                                 static_cast<unsigned int>(qdim));
    }
    return armnn::TensorInfo(shape, t, nscales == 1 ? scales[0] : 0.0f, zp);
}

}  // namespace hedge_armnn

// Layer kinds of hn_layer.
#define HN_CONV 1
#define HN_DWCONV 2
#define HN_FC 3
#define HN_ACT 4
#define HN_POOL 5
#define HN_ADD 6
#define HN_MUL 7
#define HN_SUB 8
#define HN_SOFTMAX 9
#define HN_RESHAPE 10
#define HN_QUANTIZE 11
#define HN_DEQUANTIZE 12
#define HN_CONST 13

/** Arm NN's version string, e.g. "22.0.0" (the library's ABI version). */
inline const char* hn_version() {
    return ARMNN_VERSION;
}

/** Message of the last failure of hn_create / hn_devices on this thread. */
inline const char* hn_last_error() {
    return hedge_armnn::lastError().c_str();
}

/** Comma-separated backend ids the runtime has (e.g. "CpuRef"), or null on failure. */
inline const char* hn_devices() {
    static thread_local std::string s;
    try {
        s.clear();
        for (const auto& b : hedge_armnn::runtime()->GetDeviceSpec().GetSupportedBackends()) {
            if (!s.empty()) s += ",";
            s += b.Get();
        }
        return s.c_str();
    } catch (const std::exception& e) {
        hedge_armnn::lastError() = e.what();
        return nullptr;
    }
}

/** A new empty network to run on these comma-separated devices in preference order; null on failure. */
inline void* hn_create(const char* backends) {
    try {
        auto* n = new hedge_armnn::Net();
        n->net = armnn::INetwork::Create();
        n->backends = backends;
        return n;
    } catch (const std::exception& e) {
        hedge_armnn::lastError() = e.what();
        return nullptr;
    }
}

inline void hn_destroy(void* h) {
    auto* n = static_cast<hedge_armnn::Net*>(h);
    if (n == nullptr) return;
    if (n->loaded) {
        try {
            hedge_armnn::runtime()->UnloadNetwork(n->id);
        } catch (...) {
        }
    }
    delete n;
}

inline const char* hn_error(void* h) {
    return static_cast<hedge_armnn::Net*>(h)->error.c_str();
}

/** Network input number (binding id = inputs so far); returns the tensor id, -1 on failure. */
inline int hn_input(void* h, int dtype, int rank, const int* dims, float scale, int zp) {
    auto* n = static_cast<hedge_armnn::Net*>(h);
    try {
        int binding = static_cast<int>(n->inputInfos.size());
        auto* l = n->net->AddInputLayer(binding);
        auto info = hedge_armnn::makeInfo(dtype, rank, dims, &scale, 1, zp, 0);
        l->GetOutputSlot(0).SetTensorInfo(info);
        n->inputInfos.push_back(info);
        n->inputData.push_back(nullptr);
        n->slots.push_back(&l->GetOutputSlot(0));
        n->infos.push_back(info);
        return static_cast<int>(n->slots.size()) - 1;
    } catch (const std::exception& e) {
        n->error = e.what();
        return -1;
    }
}

/** Output TensorInfo of the next hn_layer call. */
inline int hn_next_output(void* h, int dtype, int rank, const int* dims, float scale, int zp) {
    auto* n = static_cast<hedge_armnn::Net*>(h);
    try {
        n->nextOut = hedge_armnn::makeInfo(dtype, rank, dims, &scale, 1, zp, 0);
        return 0;
    } catch (const std::exception& e) {
        n->error = e.what();
        return -1;
    }
}

/** Stages constant data for the next layer: which 0 = weights (or a constant), 1 = bias. */
inline int hn_stage(void* h, int which, int dtype, int rank, const int* dims, const void* data, long bytes,
                    const float* scales, int nscales, int zp, int qdim) {
    auto* n = static_cast<hedge_armnn::Net*>(h);
    try {
        auto& s = n->staged[which];
        s.info = hedge_armnn::makeInfo(dtype, rank, dims, scales, nscales, zp, qdim);
        if (static_cast<long>(s.info.GetNumBytes()) != bytes) {
            n->error = "staged tensor has " + std::to_string(bytes) + " bytes, its info needs "
                       + std::to_string(s.info.GetNumBytes());
            return -1;
        }
        s.data.assign(static_cast<const uint8_t*>(data), static_cast<const uint8_t*>(data) + bytes);
        s.set = true;
        return 0;
    } catch (const std::exception& e) {
        n->error = e.what();
        return -1;
    }
}

/**
 * Adds a layer reading tensors ins[0..nin) and returns its output tensor id (-1 on failure).
 * ip / fp: integer and float parameters, per kind:
 *   CONV, DWCONV: ip = {strideY, strideX, padTop, padLeft, padBottom, padRight, dilY, dilX}; weights staged
 *                 (CONV [O, I, kh, kw]; DWCONV [M, C, kh, kw]), bias staged or not.
 *   FC:      ip = {transposeWeights}; weights staged, bias optional.
 *   ACT:     ip = {ActivationFunction}; fp = {a, b}.
 *   POOL:    ip = {algorithm, kh, kw, strideY, strideX, padTop, padLeft, padBottom, padRight, excludePadding}.
 *   SOFTMAX: ip = {axis}; fp = {beta}.
 *   ADD, MUL, SUB, RESHAPE, QUANTIZE, DEQUANTIZE: none.  CONST: the staged weights become a tensor.
 */
inline int hn_layer(void* h, int kind, const int* ins, int nin, const int* ip, int nip, const float* fp,
                    int nfp) {
    auto* n = static_cast<hedge_armnn::Net*>(h);
    (void) nip;
    (void) nfp;
    try {
        armnn::IConnectableLayer* l = nullptr;
        auto& w = n->staged[0];
        auto& b = n->staged[1];
        auto constOf = [](hedge_armnn::Staged& s) { return armnn::ConstTensor(s.info, s.data.data()); };
        switch (kind) {
            case HN_CONV:
            case HN_DWCONV: {
                if (!w.set) throw armnn::InvalidArgumentException("convolution without staged weights");
                armnn::Optional<armnn::ConstTensor> bias;
                if (b.set) bias = constOf(b);
                if (kind == HN_CONV) {
                    armnn::Convolution2dDescriptor d;
                    d.m_StrideY = ip[0]; d.m_StrideX = ip[1];
                    d.m_PadTop = ip[2]; d.m_PadLeft = ip[3]; d.m_PadBottom = ip[4]; d.m_PadRight = ip[5];
                    d.m_DilationY = ip[6]; d.m_DilationX = ip[7];
                    d.m_BiasEnabled = b.set;
                    d.m_DataLayout = armnn::DataLayout::NCHW;
                    l = n->net->AddConvolution2dLayer(d, constOf(w), bias);
                } else {
                    armnn::DepthwiseConvolution2dDescriptor d;
                    d.m_StrideY = ip[0]; d.m_StrideX = ip[1];
                    d.m_PadTop = ip[2]; d.m_PadLeft = ip[3]; d.m_PadBottom = ip[4]; d.m_PadRight = ip[5];
                    d.m_DilationY = ip[6]; d.m_DilationX = ip[7];
                    d.m_BiasEnabled = b.set;
                    d.m_DataLayout = armnn::DataLayout::NCHW;
                    l = n->net->AddDepthwiseConvolution2dLayer(d, constOf(w), bias);
                }
                break;
            }
            case HN_FC: {
                if (!w.set) throw armnn::InvalidArgumentException("fully connected without staged weights");
                armnn::FullyConnectedDescriptor d;
                d.m_TransposeWeightMatrix = ip[0] != 0;
                d.m_BiasEnabled = b.set;
                armnn::Optional<armnn::ConstTensor> bias;
                if (b.set) bias = constOf(b);
                l = n->net->AddFullyConnectedLayer(d, constOf(w), bias);
                break;
            }
            case HN_ACT: {
                armnn::ActivationDescriptor d;
                d.m_Function = static_cast<armnn::ActivationFunction>(ip[0]);
                d.m_A = fp[0];
                d.m_B = fp[1];
                l = n->net->AddActivationLayer(d);
                break;
            }
            case HN_POOL: {
                armnn::Pooling2dDescriptor d;
                d.m_PoolType = static_cast<armnn::PoolingAlgorithm>(ip[0]);
                d.m_PoolHeight = ip[1]; d.m_PoolWidth = ip[2];
                d.m_StrideY = ip[3]; d.m_StrideX = ip[4];
                d.m_PadTop = ip[5]; d.m_PadLeft = ip[6]; d.m_PadBottom = ip[7]; d.m_PadRight = ip[8];
                d.m_PaddingMethod = ip[9] ? armnn::PaddingMethod::Exclude : armnn::PaddingMethod::IgnoreValue;
                d.m_OutputShapeRounding = armnn::OutputShapeRounding::Floor;
                d.m_DataLayout = armnn::DataLayout::NCHW;
                l = n->net->AddPooling2dLayer(d);
                break;
            }
            case HN_ADD: l = n->net->AddAdditionLayer(); break;
            case HN_MUL: l = n->net->AddMultiplicationLayer(); break;
            case HN_SUB: l = n->net->AddSubtractionLayer(); break;
            case HN_SOFTMAX: {
                armnn::SoftmaxDescriptor d;
                d.m_Beta = fp[0];
                d.m_Axis = ip[0];
                l = n->net->AddSoftmaxLayer(d);
                break;
            }
            case HN_RESHAPE: {
                armnn::ReshapeDescriptor d;
                d.m_TargetShape = n->nextOut.GetShape();
                l = n->net->AddReshapeLayer(d);
                break;
            }
            case HN_QUANTIZE: l = n->net->AddQuantizeLayer(); break;
            case HN_DEQUANTIZE: l = n->net->AddDequantizeLayer(); break;
            case HN_CONST: {
                if (!w.set) throw armnn::InvalidArgumentException("constant without staged data");
                l = n->net->AddConstantLayer(constOf(w));
                n->nextOut = w.info;
                break;
            }
            default:
                throw armnn::InvalidArgumentException("unknown layer kind " + std::to_string(kind));
        }
        for (int i = 0; i < nin; i++) {
            if (ins[i] < 0 || ins[i] >= static_cast<int>(n->slots.size())) {
                throw armnn::InvalidArgumentException("input tensor id " + std::to_string(ins[i]) + " out of range");
            }
            n->slots[ins[i]]->Connect(l->GetInputSlot(i));
        }
        l->GetOutputSlot(0).SetTensorInfo(n->nextOut);
        n->slots.push_back(&l->GetOutputSlot(0));
        n->infos.push_back(n->nextOut);
        w.set = false;
        b.set = false;
        return static_cast<int>(n->slots.size()) - 1;
    } catch (const std::exception& e) {
        n->error = e.what();
        n->staged[0].set = false;
        n->staged[1].set = false;
        return -1;
    }
}

/** Marks a tensor as network output (binding id = outputs so far); returns the binding id, -1 on failure. */
inline int hn_output(void* h, int tensor) {
    auto* n = static_cast<hedge_armnn::Net*>(h);
    try {
        int binding = static_cast<int>(n->outputInfos.size());
        auto* l = n->net->AddOutputLayer(binding);
        n->slots.at(tensor)->Connect(l->GetInputSlot(0));
        n->outputInfos.push_back(n->infos.at(tensor));
        n->outputData.push_back(nullptr);
        return binding;
    } catch (const std::exception& e) {
        n->error = e.what();
        return -1;
    }
}

/** Optimizes the network for its devices and loads it into the runtime; 0 on success, -1 on failure. */
inline int hn_finish(void* h) {
    auto* n = static_cast<hedge_armnn::Net*>(h);
    try {
        std::vector<armnn::BackendId> prefs;
        std::string s = n->backends;
        size_t start = 0;
        while (start <= s.size()) {
            size_t comma = s.find(',', start);
            std::string id = s.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
            if (!id.empty()) prefs.emplace_back(id);
            if (comma == std::string::npos) break;
            start = comma + 1;
        }
        auto* rt = hedge_armnn::runtime();
        std::vector<std::string> messages;
        armnn::Optional<std::vector<std::string>&> msgs(messages);
        armnn::IOptimizedNetworkPtr opt =
            armnn::Optimize(*n->net, prefs, rt->GetDeviceSpec(), armnn::OptimizerOptions(), msgs);
        if (!opt) {
            std::string m = "Arm NN could not optimize the network for " + n->backends;
            for (auto& x : messages) m += "; " + x;
            n->error = m;
            return -1;
        }
        std::string err;
        armnn::INetworkProperties props;
        if (rt->LoadNetwork(n->id, std::move(opt), err, props) != armnn::Status::Success) {
            n->error = "Arm NN could not load the network: " + err;
            return -1;
        }
        n->loaded = true;
        return 0;
    } catch (const std::exception& e) {
        n->error = e.what();
        return -1;
    }
}

/** Binds the memory of input / output number i for the following runs (direct buffers, exact size). */
inline int hn_bind(void* h, int isOutput, int i, void* data, long bytes) {
    auto* n = static_cast<hedge_armnn::Net*>(h);
    auto& infos = isOutput ? n->outputInfos : n->inputInfos;
    auto& ptrs = isOutput ? n->outputData : n->inputData;
    if (i < 0 || i >= static_cast<int>(infos.size())) {
        n->error = "binding " + std::to_string(i) + " out of range";
        return -1;
    }
    if (static_cast<long>(infos[i].GetNumBytes()) != bytes) {
        n->error = std::string(isOutput ? "output " : "input ") + std::to_string(i) + " needs "
                   + std::to_string(infos[i].GetNumBytes()) + " bytes, got " + std::to_string(bytes);
        return -1;
    }
    ptrs[i] = data;
    return 0;
}

/** Runs the loaded network on the bound buffers; 0 on success, -1 on failure. */
inline int hn_run(void* h) {
    auto* n = static_cast<hedge_armnn::Net*>(h);
    try {
        if (!n->loaded) {
            n->error = "network not loaded";
            return -1;
        }
        armnn::InputTensors in;
        for (size_t i = 0; i < n->inputInfos.size(); i++) {
            if (n->inputData[i] == nullptr) {
                n->error = "input " + std::to_string(i) + " not bound";
                return -1;
            }
            in.emplace_back(static_cast<int>(i), armnn::ConstTensor(n->inputInfos[i], n->inputData[i]));
        }
        armnn::OutputTensors out;
        for (size_t i = 0; i < n->outputInfos.size(); i++) {
            if (n->outputData[i] == nullptr) {
                n->error = "output " + std::to_string(i) + " not bound";
                return -1;
            }
            out.emplace_back(static_cast<int>(i), armnn::Tensor(n->outputInfos[i], n->outputData[i]));
        }
        if (hedge_armnn::runtime()->EnqueueWorkload(n->id, in, out) != armnn::Status::Success) {
            n->error = "Arm NN EnqueueWorkload failed";
            return -1;
        }
        return 0;
    } catch (const std::exception& e) {
        n->error = e.what();
        return -1;
    }
}
